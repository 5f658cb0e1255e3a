/**
 * Shared test helpers: temporary folders, in-process CLI runs with captured
 * output, local buckets, and an in-process S3 endpoint.
 *
 * @module
 */

import { paramDefaults } from "../materializer/params.ts";
import { ASSET_PARAMS } from "../assets/params.ts";
import { main } from "../cli/main.ts";
import type { CliIO } from "../cli/io.ts";
import type { AssetContext, RunParams } from "../assets/_define.ts";
import { createLogger } from "../materializer/log.ts";
import { createEntryWriter } from "../materializer/cache.ts";
import type { Bucket } from "../resources/storage.ts";
import { taskPermissionFlags } from "../scripts/task_flags.ts";

/** The sample bucket shipped in the repository. */
export const SAMPLE_BUCKET = new URL("../sample/bucket", import.meta.url).pathname;

/** The header of the ad server's 19-column export. */
export const HEADER =
  "AGENCY_ID,ADVERTISER_ID,ORDER_ID,CAMPAIGN_ID,IMPRESSION_ID,IMPRESSION_DATE,IMPRESSION_DATETIME,AD_ID,CREATIVE_ID,CREATIVE_TYPE,CREATIVE_SIZE,SITE_ID,PLACEMENT_ID,DEVICE_TYPE,OS_NAME,BROWSER_NAME,COUNTRY_CODE,REGION_CODE,IMPRESSION";

/** One 19-column row with the given id, datetime and campaign. */
export function row(id: string, datetime: string, campaign: string, device = "Mobile"): string {
  return `1,2,3,${campaign},${id},${
    datetime.slice(0, 10)
  },${datetime},4,5,Banner,300x250,6,7,${device},Android,Chrome,US,CA,1`;
}

/** A CSV file of rows under {@linkcode HEADER}. */
export function csv(...rows: string[]): string {
  return [HEADER, ...rows].join("\n") + "\n";
}

/**
 * The arguments of `materialize` for 2021-01-30 with initials `T` (or
 * `initials`, so that runs on one bucket publish their own files).
 *
 * @example
 * ```ts
 * import { materializeArgs, runCli } from "./_helpers.ts";
 * // await runCli([...materializeArgs("/tmp/bucket", "/tmp/cache"), "--force"]);
 * ```
 */
export function materializeArgs(bucket: string, cacheDir: string, initials = "T"): string[] {
  return [
    "materialize",
    "--date",
    "2021-01-30",
    "--bucket",
    bucket,
    "--initials",
    initials,
    "--cache-dir",
    cacheDir,
  ];
}

/** Creates a temporary folder, removed after `fn`. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "impressions-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Writes objects into a local bucket folder (key → text or bytes). */
export async function writeObjects(
  root: string,
  objects: Record<string, string | Uint8Array>,
): Promise<void> {
  for (const [key, body] of Object.entries(objects)) {
    const path = `${root}/${key}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    if (typeof body === "string") await Deno.writeTextFile(path, body);
    else await Deno.writeFile(path, body);
  }
}

/** Gzips bytes or text. */
export async function gzip(data: string | Uint8Array): Promise<Uint8Array> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** What an in-process CLI run printed. */
export interface CliResult {
  /** Exit code. */
  code: number;
  /** Stdout lines. */
  stdout: string[];
  /** Stderr lines joined. */
  stderr: string;
}

/** Runs the CLI in process with captured output and the given environment. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; defaultBucket?: string; now?: Date } = {},
): Promise<CliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIO = {
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    stderrRaw: () => {},
    env: { AWS_EC2_METADATA_DISABLED: "true", ...options.env },
    stderrIsTerminal: false,
  };
  const code = await main(args, { io, defaultBucket: options.defaultBucket, now: options.now });
  return { code, stdout, stderr: stderr.join("\n") };
}

/** Run parameters with defaults for tests. */
export function testParams(overrides: Partial<RunParams> = {}): RunParams {
  return { ...paramDefaults(ASSET_PARAMS, { test: true }), downloadConcurrency: 4, ...overrides };
}

/**
 * A context for calling an asset's `compute` directly: no cache, no run.
 *
 * @example
 * ```ts
 * // const counts = await hourlyCampaignCounts.compute({ deduped }, testContext("2021-01-30"));
 * ```
 */
// deno-lint-ignore no-explicit-any
export function testContext<O = any>(
  partition: string,
  options: { bucket?: Bucket; params?: Partial<RunParams>; dir?: string; observation?: O } = {},
): AssetContext<O> & { metadata: Record<string, unknown> } {
  const metadata: Record<string, unknown> = {};
  const dir = options.dir ?? Deno.makeTempDirSync({ prefix: "impressions-ctx-" });
  return {
    partition,
    runId: "test-run",
    checkpoint: () => Promise.resolve(),
    progress: () => {},
    resources: { bucket: options.bucket ?? (null as unknown as Bucket) },
    params: testParams(options.params),
    log: createLogger({ write: () => {} }),
    record: (m) => Object.assign(metadata, m),
    scratchDir: `${dir}/.scratch`,
    output: createEntryWriter(dir),
    previous: null,
    observation: options.observation as O,
    history: () => Promise.resolve([]),
    announce: () => {},
    metadata,
  };
}

/** The AWS settings for talking to a test S3 endpoint with `credentials` (the in-process one's by default). */
export function s3Env(
  endpoint: string,
  credentials = { accessKeyId: "test", secretAccessKey: "test-secret-key" },
): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL: endpoint,
  };
}

/** The permission flags of the `materialize` task in deno.json. */
export function taskPermissions(): string[] {
  return taskPermissionFlags("materialize");
}

/** The repository root. */
export const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * Runs `main.ts` in a child process with the permissions of the deno.json
 * task `task` (`materialize` by default).
 */
export async function runProcess(
  args: string[],
  options: { env?: Record<string, string>; clearEnv?: boolean; cwd?: string; task?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command("deno", {
    args: [
      "run",
      ...taskPermissionFlags(options.task ?? "materialize"),
      `${REPO}/main.ts`,
      ...args,
    ],
    env: { NO_COLOR: "1", AWS_EC2_METADATA_DISABLED: "true", ...options.env },
    clearEnv: options.clearEnv,
    cwd: options.cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/**
 * Materializes the 2021-01-30 day of the folder bucket `root` with initials
 * `name` (its own result file) and cache `${dir}/cache-${name}`, plus
 * `flags`; fails on a non-zero exit. Returns stderr and the published CSV.
 */
export async function runEnginePath(
  root: string,
  dir: string,
  name: string,
  ...flags: string[]
): Promise<{ stderr: string; csv: string }> {
  const r = await runCli([...materializeArgs(root, `${dir}/cache-${name}`, name), ...flags]);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return {
    stderr: r.stderr,
    csv: await Deno.readTextFile(`${root}/results/2021/01/30/daily_agg_20210130_${name}.csv`),
  };
}
