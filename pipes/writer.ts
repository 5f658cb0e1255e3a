/**
 * Message writers: where Pipes messages go, chosen by the params of
 * `DAGSTER_PIPES_MESSAGES`:
 *
 * - `{"path": FILE}`: one JSON line per message appended to the file
 *   (Dagster's subprocess and temp-file readers tail it);
 * - `{"stdio": "stdout" | "stderr"}`: one JSON line per message on that
 *   stream, at once; `{"buffered_stdio": ...}`: the same, all at close;
 * - `{"bucket": B, "key_prefix": P}`: messages buffered and uploaded to S3 as
 *   numbered chunks `P/1.json`, `P/2.json`, … (JSON lines; every interval
 *   and at close), which Dagster's S3 message reader fetches in order.
 *
 * @module
 */

import type { PipesParams } from "./context.ts";
import { encodeMessage, type PipesMessage } from "./messages.ts";

/** Writes messages to the orchestrator. */
export interface PipesMessageWriter {
  /** Which standard stream the messages use, if one. */
  readonly stream?: "stdout" | "stderr";
  /** Sends (or buffers) one message. */
  write(message: PipesMessage): Promise<void>;
  /** Flushes what is buffered and releases the channel. */
  close(): Promise<void>;
}

/** Puts one object to S3. */
export type PutObject = (bucket: string, key: string, body: string) => Promise<void>;

/** Options for {@linkcode openMessageWriter}. */
export interface MessageWriterOptions {
  /** Writes one line to stdout (default: the process's stdout). */
  stdout?: (line: string) => void;
  /** Writes one line to stderr (default: the process's stderr). */
  stderr?: (line: string) => void;
  /** Uploads a chunk (default: an `@aws-sdk/client-s3` client with {@linkcode s3}). */
  putObject?: PutObject;
  /** Client settings for the default {@linkcode putObject}. */
  s3?: { endpoint?: string; region?: string };
  /** Milliseconds between S3 chunk uploads (default 10 000); all is uploaded at close. */
  intervalMs?: number;
}

/** Message writer params that cannot be used. */
export class PipesWriterError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "PipesWriterError";
  }
}

const encoder = new TextEncoder();

function streamLine(stream: "stdout" | "stderr"): (line: string) => void {
  const target = stream === "stdout" ? Deno.stdout : Deno.stderr;
  return (line) => target.writeSync(encoder.encode(line + "\n"));
}

function fileWriter(path: string): PipesMessageWriter {
  let file: Deno.FsFile | undefined;
  let chain = Promise.resolve();
  return {
    write(message) {
      chain = chain.then(async () => {
        file ??= await Deno.open(path, { append: true, create: true });
        const bytes = encoder.encode(encodeMessage(message) + "\n");
        let written = 0;
        while (written < bytes.length) written += await file.write(bytes.subarray(written));
      });
      return chain;
    },
    async close() {
      await chain;
      file?.close();
      file = undefined;
    },
  };
}

function stdioWriter(
  stream: "stdout" | "stderr",
  write: (line: string) => void,
  buffered: boolean,
): PipesMessageWriter {
  const buffer: string[] = [];
  return {
    stream,
    write(message) {
      const line = encodeMessage(message);
      if (buffered) buffer.push(line);
      else write(line);
      return Promise.resolve();
    },
    close() {
      for (const line of buffer.splice(0)) write(line);
      return Promise.resolve();
    },
  };
}

async function defaultPutObject(s3: MessageWriterOptions["s3"] = {}): Promise<PutObject> {
  const sdk = await import("@aws-sdk/client-s3");
  const client = new sdk.S3Client({
    region: s3.region ?? "us-east-1",
    ...(s3.endpoint ? { endpoint: s3.endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return async (bucket, key, body) => {
    await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  };
}

function s3Writer(
  bucket: string,
  keyPrefix: string | undefined,
  options: MessageWriterOptions,
): PipesMessageWriter {
  const pending: string[] = [];
  let index = 1;
  let failure: unknown;
  let put: Promise<PutObject> | undefined;
  let chain = Promise.resolve();
  const flush = () => {
    if (pending.length === 0) return chain;
    const body = pending.splice(0).join("\n");
    const key = keyPrefix ? `${keyPrefix}/${index}.json` : `${index}.json`;
    index++;
    put ??= options.putObject ? Promise.resolve(options.putObject) : defaultPutObject(options.s3);
    chain = chain.then(async () => {
      if (failure !== undefined) return;
      try {
        await (await put!)(bucket, key, body);
      } catch (error) {
        failure = error;
      }
    });
    return chain;
  };
  const timer = setInterval(flush, options.intervalMs ?? 10_000);
  Deno.unrefTimer(timer);
  return {
    write(message) {
      pending.push(encodeMessage(message));
      return Promise.resolve();
    },
    async close() {
      clearInterval(timer);
      await flush();
      if (failure !== undefined) {
        throw new PipesWriterError(
          `cannot upload Pipes messages to s3://${bucket}/${keyPrefix ?? ""}: ${
            (failure as Error).message?.split("\n")[0] ?? String(failure)
          }`,
        );
      }
    },
  };
}

/**
 * Opens the writer the params ask for.
 *
 * @example
 * ```ts
 * import { openMessageWriter } from "./writer.ts";
 * import { pipesMessage } from "./messages.ts";
 * const lines: string[] = [];
 * const writer = openMessageWriter({ stdio: "stdout" }, { stdout: (l) => lines.push(l) });
 * await writer.write(pipesMessage("opened", { extras: {} }));
 * await writer.close();
 * // lines[0] is the opened message as JSON
 * ```
 */
export function openMessageWriter(
  params: PipesParams,
  options: MessageWriterOptions = {},
): PipesMessageWriter {
  if (typeof params.path === "string") return fileWriter(params.path);
  for (const key of ["stdio", "buffered_stdio"] as const) {
    if (key in params) {
      const stream = params[key];
      if (stream !== "stdout" && stream !== "stderr") {
        throw new PipesWriterError(
          `Pipes messages ${key} must be "stdout" or "stderr", not ${JSON.stringify(stream)}`,
        );
      }
      const write = (stream === "stdout" ? options.stdout : options.stderr) ?? streamLine(stream);
      return stdioWriter(stream, write, key === "buffered_stdio");
    }
  }
  if (typeof params.bucket === "string") {
    const prefix = params.key_prefix;
    if (prefix !== undefined && prefix !== null && typeof prefix !== "string") {
      throw new PipesWriterError(
        `Pipes messages key_prefix must be a string, not ${JSON.stringify(prefix)}`,
      );
    }
    return s3Writer(params.bucket, prefix ?? undefined, options);
  }
  throw new PipesWriterError(
    `Pipes message params need "path", "stdio", "buffered_stdio" or "bucket", got keys ${
      JSON.stringify(Object.keys(params))
    }`,
  );
}
