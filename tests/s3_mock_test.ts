/**
 * S3 behaviour against a mocked client: listing pages, permanent errors,
 * retries of transient ones.
 */

import assert from "node:assert/strict";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { openS3Bucket } from "../resources/s3_bucket.ts";
import {
  AccessDeniedError,
  BucketNotFoundError,
  CredentialsError,
  StorageError,
} from "../resources/errors.ts";
import { withRetries } from "../resources/retry.ts";
import { recordSummary } from "./_summary.ts";

function serviceError(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
    message: `${name} happened`,
  });
}

function newClient() {
  const client = new S3Client({
    region: "us-east-1",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
  });
  return { client, mock: mockClient(client) };
}

/**
 * Answers listings with one object per page: page `n` (its object
 * `2021/01/30/<name>`, etag `e<n+1>`, size n+1) for the token `after`, and
 * `next` as the page's continuation token (none: the last page).
 */
function mockPages(
  mock: ReturnType<typeof newClient>["mock"],
  pages: { after?: string; next?: string; name: string }[],
): void {
  for (const [n, { after, next, name }] of pages.entries()) {
    mock.on(ListObjectsV2Command, { ContinuationToken: after }).resolves({
      IsTruncated: next !== undefined,
      NextContinuationToken: next,
      Contents: [{ Key: `2021/01/30/${name}`, ETag: `"e${n + 1}"`, Size: n + 1 }],
    });
  }
}

Deno.test("listing follows every page", async () => {
  const { client, mock } = newClient();
  mockPages(mock, [
    { next: "t1", name: "a.csv" },
    { after: "t1", next: "t2", name: "b.csv" },
    { after: "t2", name: "c.csv" },
  ]);
  const bucket = await openS3Bucket({ bucket: "imps", client });
  const listed = await Array.fromAsync(bucket.list("2021/01/30/"));
  assert.deepEqual(listed, [
    { key: "2021/01/30/a.csv", etag: "e1", size: 1 },
    { key: "2021/01/30/b.csv", etag: "e2", size: 2 },
    { key: "2021/01/30/c.csv", etag: "e3", size: 3 },
  ]);
  assert.equal(mock.commandCalls(ListObjectsV2Command).length, 3);
});

Deno.test("a listing that would skip objects or never end fails naming it", async (t) => {
  await t.step("a token handed out again", async () => {
    const { client, mock } = newClient();
    mockPages(mock, [{ next: "t1", name: "a.csv" }, { after: "t1", next: "t1", name: "b.csv" }]);
    const bucket = await openS3Bucket({ bucket: "imps", client });
    await assert.rejects(
      Array.fromAsync(bucket.list("2021/01/30/")),
      (e) =>
        e instanceof StorageError &&
        e.message ===
          "listing s3://imps/2021/01/30/ does not advance: continuation token t1 came back",
    );
    assert.equal(mock.commandCalls(ListObjectsV2Command).length, 2);
  });
  await t.step("truncated without a token", async () => {
    const { client, mock } = newClient();
    mock.on(ListObjectsV2Command).resolves({
      IsTruncated: true,
      Contents: [{ Key: "2021/01/30/a.csv", ETag: '"e1"', Size: 1 }],
    });
    const bucket = await openS3Bucket({ bucket: "imps", client });
    await assert.rejects(
      Array.fromAsync(bucket.list("2021/01/30/")),
      (e) =>
        e instanceof StorageError &&
        e.message === "listing s3://imps/2021/01/30/ is truncated but gives no continuation token",
    );
  });
});

Deno.test("permanent errors fail at once with one clear line", async (t) => {
  await t.step("NoSuchBucket names the bucket", async () => {
    const { client, mock } = newClient();
    mock.on(ListObjectsV2Command).rejects(serviceError("NoSuchBucket", 404));
    const bucket = await openS3Bucket({ bucket: "missing-bucket", client, retry: { retries: 4 } });
    await assert.rejects(
      Array.fromAsync(bucket.list("2021/01/30/")),
      (e) =>
        e instanceof BucketNotFoundError && e.message === "bucket not found: s3://missing-bucket",
    );
    assert.equal(mock.commandCalls(ListObjectsV2Command).length, 1);
  });
  await t.step("AccessDenied names the operation and key", async () => {
    const { client, mock } = newClient();
    mock.on(GetObjectCommand).rejects(serviceError("AccessDenied", 403));
    const bucket = await openS3Bucket({ bucket: "imps", client, retry: { retries: 4 } });
    await assert.rejects(
      bucket.get("2021/01/30/a.csv"),
      (e) =>
        e instanceof AccessDeniedError &&
        e.message === "access denied: GetObject s3://imps/2021/01/30/a.csv",
    );
    assert.equal(mock.commandCalls(GetObjectCommand).length, 1);
  });
  await t.step("missing credentials say how to set them", async () => {
    const { client, mock } = newClient();
    const error = new Error("Could not load credentials from any providers");
    error.name = "CredentialsProviderError";
    mock.on(ListObjectsV2Command).rejects(error);
    const bucket = await openS3Bucket({ bucket: "imps", client });
    await assert.rejects(
      Array.fromAsync(bucket.list("x/")),
      (e) =>
        e instanceof CredentialsError &&
        e.message ===
          "no AWS credentials found (Could not load credentials from any providers); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials",
    );
  });
});

Deno.test("transient errors are retried with backoff, then succeed or give up", async (t) => {
  await t.step("SlowDown twice, then success", async () => {
    const { client, mock } = newClient();
    mock.on(HeadObjectCommand)
      .rejectsOnce(serviceError("SlowDown", 503))
      .rejectsOnce(serviceError("InternalError", 500))
      .resolves({ ETag: '"0123456789abcdef0123456789abcdef"', ContentLength: 4 });
    const retries: number[] = [];
    const bucket = await openS3Bucket({
      bucket: "imps",
      client,
      retry: {
        retries: 4,
        sleep: () => Promise.resolve(),
        onRetry: ({ attempt }) => retries.push(attempt),
      },
    });
    const head = await bucket.head("k");
    assert.equal(head?.md5, "0123456789abcdef0123456789abcdef");
    assert.deepEqual(retries, [1, 2]);
    recordSummary({ faults: 2 });
    assert.equal(mock.commandCalls(HeadObjectCommand).length, 3);
  });
  await t.step("gives up after --retries attempts", async () => {
    const { client, mock } = newClient();
    mock.on(PutObjectCommand).rejects(serviceError("ServiceUnavailable", 503));
    const bucket = await openS3Bucket({
      bucket: "imps",
      client,
      retry: { retries: 3, sleep: () => Promise.resolve() },
    });
    await assert.rejects(
      bucket.put("results/x.csv", new Uint8Array([1])),
      (e) =>
        e instanceof StorageError && e.transient &&
        /PutObject s3:\/\/imps\/results\/x\.csv failed/.test(e.message),
    );
    assert.equal(mock.commandCalls(PutObjectCommand).length, 4);
    recordSummary({ faults: 4 });
  });
  await t.step("backoff doubles up to the cap, with full jitter", async () => {
    const delays: number[] = [];
    await assert.rejects(
      withRetries("op", {
        retries: 5,
        baseDelayMs: 100,
        maxDelayMs: 1000,
        random: () => 0.5,
        sleep: (ms) => {
          delays.push(ms);
          return Promise.resolve();
        },
      }, () => Promise.reject(new StorageError("boom", { transient: true }))),
    );
    assert.deepEqual(delays, [50, 100, 200, 400, 500]);
  });
});
