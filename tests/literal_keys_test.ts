/**
 * Keys with `.` and `..` segments are read literally, with signed requests,
 * on both test endpoints, and never as another object: a decoy that a
 * normalized path would reach (in another bucket, same bytes, so the same
 * ETag) is never requested.
 */

import assert from "node:assert/strict";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { csv, materializeArgs, row, runCli, runProcess, s3Env, withTempDir } from "./_helpers.ts";
import { startTestS3, type TestS3 } from "./_s3_server.ts";
import { MOTO_MISSING, startMotoS3 } from "./_moto_server.ts";
import { startFaultProxy } from "./_fault_proxy.ts";
import { recordSummary } from "./_summary.ts";
import { literalKeyPath, UnreadableKeyError } from "../resources/literal_key_path.ts";
import { openS3Bucket } from "../resources/s3_bucket.ts";

Deno.test("literalKeyPath encodes the separator after each dot segment", () => {
  assert.equal(literalKeyPath("/b/2021/01/30/a.csv", 1), "/b/2021/01/30/a.csv");
  assert.equal(literalKeyPath("/b/2021/01/30/sub/../x.csv", 1), "/b/2021/01/30/sub/..%2Fx.csv");
  assert.equal(literalKeyPath("/b/2021/./x.csv", 1), "/b/2021/.%2Fx.csv");
  assert.equal(literalKeyPath("/b/a/../../../x.csv", 1), "/b/a/..%2F..%2F..%2Fx.csv");
  assert.equal(literalKeyPath("/b/../x.csv", 1), "/b/..%2Fx.csv");
  assert.equal(literalKeyPath("/b/a/%2E%2e/x.csv", 1), "/b/a/%2E%2e%2Fx.csv");
  assert.equal(literalKeyPath("/b/a/..", 1), "/b/a%2F..");
  assert.equal(literalKeyPath("/../x.csv", 0), "/..%2Fx.csv");
  // The only ways left to name these would be resolved away.
  assert.equal(literalKeyPath("/b/..", 1), null);
  assert.equal(literalKeyPath("/b/.", 1), null);
  assert.equal(literalKeyPath("/..", 0), null);
  for (const path of ["/b/a/../x", "/b/./../.", "/b/x/..%2F/..", "/b/a/.../b"]) {
    const out = literalKeyPath(path, 1);
    if (out !== null) assert.equal(new URL(`http://h${out}`).pathname, out, path);
  }
});

const DATE_PREFIX = "2021/01/30/";
/** Keys a URL parser would resolve: literal key → where a normalized path leads. */
const DOTTED = {
  [`${DATE_PREFIX}sub/../x.csv`]: csv(row("lit-1", "2021-01-30 01:00:00", "1")),
  [`${DATE_PREFIX}./y.csv`]: csv(row("lit-2", "2021-01-30 02:00:00", "1")),
  [`${DATE_PREFIX}../../../../tmp/pwned.csv`]: csv(row("lit-3", "2021-01-30 03:00:00", "2")),
};
/** What the normalized paths would reach instead. */
const DECOYS: [bucket: string, key: string, body: string][] = [
  // Another object of the day, with other rows (another ETag).
  ["imps", `${DATE_PREFIX}x.csv`, csv(row("plain-1", "2021-01-30 04:00:00", "3"))],
  // Another bucket, with the very same bytes (the same ETag: If-Match cannot tell).
  ["tmp", "pwned.csv", DOTTED[`${DATE_PREFIX}../../../../tmp/pwned.csv`]],
];

/** Seeds the dotted keys and the decoys with the test client (which sends paths as they are). */
async function seed(s3: TestS3): Promise<void> {
  await s3.createBucket("imps");
  await s3.createBucket("tmp");
  await s3.put("imps", DOTTED);
  for (const [bucket, key, body] of DECOYS) await s3.put(bucket, { [key]: body });
  // The store holds the keys literally.
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: "imps" }));
  assert.deepEqual(
    (listed.Contents ?? []).map((o) => o.Key).sort(),
    [...Object.keys(DOTTED), `${DATE_PREFIX}x.csv`].sort(),
  );
}

async function readsLiterallyThroughProxy(s3: TestS3): Promise<void> {
  await seed(s3);
  const proxy = startFaultProxy(s3.endpoint, () => null);
  try {
    // Each dotted key on its own: its own bytes, never the decoy's.
    const bucket = await openS3Bucket({ bucket: "imps", endpoint: proxy.endpoint });
    try {
      for (const [key, body] of Object.entries(DOTTED)) {
        assert.equal(await new Response(await bucket.get(key)).text(), body, key);
      }
      const put = await bucket.put(`${DATE_PREFIX}w/../put.csv`, new TextEncoder().encode("w"));
      assert.equal(put.key, `${DATE_PREFIX}w/../put.csv`);
      assert.equal(await s3.text("imps", `${DATE_PREFIX}w/../put.csv`), "w");
      assert.equal(await s3.text("imps", `${DATE_PREFIX}put.csv`), null);
      await bucket.delete(`${DATE_PREFIX}w/../put.csv`);
      assert.equal(await s3.text("imps", `${DATE_PREFIX}w/../put.csv`), null);
    } finally {
      bucket.close();
    }
    // A whole day: every dotted object and the plain one, each read once.
    await withTempDir(async (dir) => {
      const r = await runCli([
        ...materializeArgs("s3://imps", `${dir}/cache`),
        "--endpoint-url",
        proxy.endpoint,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /rowsIn=4 rowsOut=4 duplicates=0/);
    });
    const paths = proxy.requests.map((r) => r.path);
    assert.ok(paths.length > 0);
    assert.deepEqual(paths.filter((p) => p.startsWith("/tmp")), [], "the decoy bucket was reached");
    assert.ok(paths.includes("/imps/2021/01/30/sub/..%2Fx.csv?x-id=GetObject"), paths.join(" "));
    assert.ok(paths.includes("/imps/2021/01/30/.%2Fy.csv?x-id=GetObject"));
    assert.equal(paths.filter((p) => p.startsWith("/imps/2021/01/30/x.csv")).length, 1);
  } finally {
    proxy.close();
  }
}

const SERVERS = [
  { name: "the in-process endpoint", start: () => startTestS3(), ignore: false },
  { name: "moto", start: () => startMotoS3(), ignore: MOTO_MISSING },
];

for (const server of SERVERS) {
  Deno.test({
    name: `dotted keys are read literally on ${server.name}; the decoy is never requested`,
    ignore: server.ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const s3 = await server.start();
      try {
        await readsLiterallyThroughProxy(s3);
      } finally {
        await s3.stop();
      }
      recordSummary({ badInputs: Object.keys(DOTTED).length });
    },
  });
}

Deno.test({
  name: "dotted keys: the signature covers the path sent (moto checking every signature)",
  ignore: MOTO_MISSING,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s3 = await startMotoS3({ verifySignatures: true });
    try {
      await seed(s3);
      // The server does check: a wrong secret is refused.
      const wrong = new S3Client({
        endpoint: s3.endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { ...s3.credentials, secretAccessKey: "not-the-secret" },
      });
      await assert.rejects(
        wrong.send(new GetObjectCommand({ Bucket: "imps", Key: `${DATE_PREFIX}x.csv` })),
        { name: "SignatureDoesNotMatch" },
      );
      wrong.destroy();
      await withTempDir(async (dir) => {
        const r = await runProcess(
          [...materializeArgs("s3://imps", `${dir}/cache`), "--endpoint-url", s3.endpoint],
          { env: s3Env(s3.endpoint, s3.credentials) },
        );
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /rowsIn=4 rowsOut=4 duplicates=0/);
        const results = await s3.client.send(
          new ListObjectsV2Command({ Bucket: "imps", Prefix: "results/" }),
        );
        assert.equal(results.KeyCount, 1);
      });
    } finally {
      await s3.stop();
    }
  },
});

Deno.test("a key no request path can name literally is refused, naming it, before any request", async () => {
  const s3 = await startTestS3();
  const proxy = startFaultProxy(s3.endpoint, () => null);
  try {
    await s3.createBucket("imps");
    const bucket = await openS3Bucket({ bucket: "imps", endpoint: proxy.endpoint });
    await assert.rejects(bucket.get(".."), (error: Error) => {
      assert.ok(error instanceof UnreadableKeyError);
      assert.equal(
        error.message,
        'cannot request the object .. literally: its key ends in a "." or ".." segment',
      );
      return true;
    });
    bucket.close();
    assert.equal(proxy.requests.length, 0);
  } finally {
    proxy.close();
    await s3.stop();
  }
});
