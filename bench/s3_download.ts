/**
 * The S3 part of the benchmark: the day's files are put into an in-process
 * S3 endpoint (`fauxqs` on 127.0.0.1), then our pipeline's `raw_partition`
 * (cold cache) and `aws s3 cp --recursive` download the same prefix, each
 * timed as a whole process; both are reported in MB/s. Our whole pipeline
 * from the endpoint is timed too: parsing overlaps the download, so it
 * takes less than the download plus the local run.
 *
 * @module
 */

import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { startTestS3, TEST_CREDENTIALS } from "../tests/_s3_server.ts";
import {
  type DayRunOptions,
  figuresOf,
  materializeCommand,
  measure,
  type Measurement,
  summarize,
  type TimedCommand,
} from "./measure.ts";
import type { RunFigures, S3Figures, ToolFigures } from "./report.ts";

/** Bucket the day is put into. */
const BUCKET = "bench-impressions";

/** What {@linkcode runS3Comparison} needs. */
export interface S3ComparisonOptions extends DayRunOptions {
  /** The `aws` command, or undefined when not installed. */
  aws?: string;
}

/** Part size of uploads: fauxqs takes request bodies up to 11 MiB. */
const PART_BYTES = 8 * 1024 * 1024;

/** Reads up to `buffer.length` bytes; fewer only at the end of the file. */
async function readFull(file: Deno.FsFile, buffer: Uint8Array): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled;
}

/** Uploads a file as a multipart object in {@linkcode PART_BYTES} parts. */
async function uploadFile(client: S3Client, key: string, path: string): Promise<void> {
  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ContentType: "text/csv" }),
  );
  const parts: { ETag: string; PartNumber: number }[] = [];
  using file = await Deno.open(path);
  const buffer = new Uint8Array(PART_BYTES);
  for (let part = 1;; part++) {
    const n = await readFull(file, buffer);
    if (n === 0 && part > 1) break;
    const { ETag } = await client.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        PartNumber: part,
        Body: buffer.slice(0, n),
      }),
    );
    parts.push({ ETag: ETag!, PartNumber: part });
    if (n < PART_BYTES) break;
  }
  await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
}

/** Total size of the files under `dir`, recursively. */
async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) total += await treeBytes(path);
    else if (entry.isFile) total += (await Deno.stat(path)).size;
  }
  return total;
}

/**
 * Puts the day into a fresh endpoint and times both downloads, interleaved.
 *
 * @example
 * ```ts
 * import { runS3Comparison } from "./s3_download.ts";
 * declare const options: import("./s3_download.ts").S3ComparisonOptions;
 * const figures = await runS3Comparison(options);
 * // figures.ours.mbPerSecond, figures.aws.mbPerSecond
 * ```
 */
export async function runS3Comparison(options: S3ComparisonOptions): Promise<S3Figures> {
  const { day, date, runDir } = options;
  const s3 = await startTestS3();
  try {
    s3.createBucket(BUCKET);
    const prefix = `${date.replaceAll("-", "/")}/`;
    const started = performance.now();
    for (const file of day.files) {
      await uploadFile(s3.client, prefix + file.slice(file.lastIndexOf("/") + 1), file);
    }
    options.progress(
      `put ${day.files.length} objects into fauxqs at ${s3.endpoint} in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );

    const credentials = {
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: "true",
      NO_COLOR: "1",
    };
    const ours = (run: number, select: string[]) =>
      materializeCommand(options.repo, options.materializeFlags, [
        "--date",
        date,
        "--bucket",
        `s3://${BUCKET}`,
        "--endpoint-url",
        s3.endpoint,
        "--region",
        "us-east-1",
        "--cache-dir",
        `${runDir}/cache-s3-${run}`,
        ...select,
      ], credentials);
    const downloadedAll = (m: Measurement) => {
      const downloaded = /bytesDownloaded=(\d+)/.exec(m.stderr)?.[1];
      return Promise.resolve(
        downloaded === undefined || +downloaded === day.bytes
          ? undefined
          : `downloaded ${downloaded} bytes, expected ${day.bytes}`,
      );
    };
    const contenders: {
      name: "ours" | "aws" | "oursAll";
      prepare(run: number): TimedCommand;
      target(run: number): string;
      check(m: Measurement, run: number): Promise<string | undefined>;
    }[] = [{
      name: "ours",
      target: (run) => `${runDir}/cache-s3-${run}`,
      prepare: (run) => ours(run, ["--select", "raw_partition"]),
      check: downloadedAll,
    }, {
      name: "oursAll",
      target: (run) => `${runDir}/cache-s3-${run}`,
      prepare: (run) => ours(run, []),
      check: downloadedAll,
    }];
    if (options.aws !== undefined) {
      const aws = options.aws;
      contenders.push({
        name: "aws",
        target: (run) => `${runDir}/aws-${run}`,
        prepare: (run) => ({
          command: aws,
          args: [
            "s3",
            "cp",
            "--recursive",
            "--only-show-errors",
            "--no-progress",
            "--endpoint-url",
            s3.endpoint,
            `s3://${BUCKET}/${prefix}`,
            `${runDir}/aws-${run}`,
          ],
          env: {
            ...credentials,
            AWS_DEFAULT_REGION: "us-east-1",
            AWS_REGION: "us-east-1",
            AWS_PAGER: "",
            // The defaults, not this machine's ~/.aws settings.
            AWS_CONFIG_FILE: `${runDir}/no-aws-config`,
            AWS_SHARED_CREDENTIALS_FILE: `${runDir}/no-aws-credentials`,
          },
        }),
        async check(_m, run) {
          const bytes = await treeBytes(`${runDir}/aws-${run}`).catch(() => 0);
          return bytes === day.bytes
            ? undefined
            : `downloaded ${bytes} bytes, expected ${day.bytes}`;
        },
      });
    }

    const runs = new Map<string, RunFigures[]>();
    const errors = new Map<string, string>();
    for (let run = 1; run <= options.repeat; run++) {
      for (const c of contenders) {
        if (errors.has(c.name)) continue;
        const target = c.target(run);
        await Deno.remove(target, { recursive: true }).catch(() => {});
        try {
          const cmd = c.prepare(run);
          const m = await measure({ cwd: options.repo, ...cmd }, options.gnuTime);
          const problem = m.code !== 0
            ? `exit code ${m.code}: ${m.stderr.trim().split("\n").slice(-2).join(" / ")}`
            : await c.check(m, run);
          if (problem !== undefined) {
            errors.set(c.name, problem.slice(0, 400));
            options.progress(`S3 ${c.name} run ${run} FAILED: ${problem}`);
            continue;
          }
          const figures = figuresOf(m);
          runs.set(c.name, [...(runs.get(c.name) ?? []), figures]);
          options.progress(
            `S3 ${c.name} run ${run}/${options.repeat}: ${figures.wallSeconds.toFixed(2)} s, ${
              (day.bytes / 1e6 / figures.wallSeconds).toFixed(0)
            } MB/s`,
          );
        } catch (error) {
          errors.set(c.name, error instanceof Error ? error.message : String(error));
        } finally {
          await Deno.remove(target, { recursive: true }).catch(() => {});
        }
      }
    }
    const result = (name: string): ToolFigures =>
      errors.has(name)
        ? { status: "failed", error: errors.get(name), runs: runs.get(name) ?? [] }
        : summarize(runs.get(name) ?? [], day.rows, day.bytes);
    return {
      status: "ok",
      bytes: day.bytes,
      ours: result("ours"),
      oursAll: result("oursAll"),
      aws: options.aws === undefined
        ? { status: "skipped", note: "no aws command (apt-get install awscli)", runs: [] }
        : result("aws"),
    };
  } finally {
    await s3.stop();
  }
}
