/**
 * A moto S3 server (PyPI `moto[server]`) on 127.0.0.1, served one request at
 * a time by `tests/moto/server.py`, for tests that need a store honouring
 * `If-None-Match` and `If-Match` on PUT (the in-process endpoint ignores both).
 *
 * The Python interpreter is `MOTO_PYTHON`, else `.tools/py/bin/python` (the
 * virtual environment `.ci/run` creates). Without it the tests that need moto
 * are skipped, except under `CI=true`, where they fail.
 *
 * @module
 */

import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { fileURLToPath as fromFileUrl } from "node:url";
import { setTestCredentials, type TestS3, testS3 } from "./_s3_server.ts";

const SERVER = fromFileUrl(new URL("./moto/server.py", import.meta.url));
const DEFAULT_PYTHON = fromFileUrl(new URL("../.tools/py/bin/python", import.meta.url));

/** The interpreter that has moto, or `null` (with the reason) when there is none. */
export function motoPython(): { python: string | null; reason: string } {
  const python = Deno.env.get("MOTO_PYTHON") || DEFAULT_PYTHON;
  try {
    Deno.statSync(python);
    return { python, reason: "" };
  } catch {
    return {
      python: null,
      reason: `no Python with moto at ${python} (run .ci/run once, or set MOTO_PYTHON)`,
    };
  }
}

/** Whether moto tests should be ignored here (no interpreter, not under CI). */
export const MOTO_MISSING = motoPython().python === null && Deno.env.get("CI") !== "true";

/**
 * Starts a moto server on a free port and puts test credentials in the
 * environment. `host`: the address it listens on (default 127.0.0.1; the
 * returned client always uses 127.0.0.1, so pass an address that includes
 * it, such as 0.0.0.0).
 */
export async function startMotoS3(options: { host?: string } = {}): Promise<TestS3> {
  const { python, reason } = motoPython();
  if (python === null) throw new Error(reason);
  setTestCredentials();
  const child = new Deno.Command(python, {
    args: [SERVER, "0", ...(options.host ? [options.host] : [])],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the moto server exited before printing its port");
    first += value;
  }
  reader.releaseLock();
  // Keep draining stdout so the server never blocks on a full pipe.
  child.stdout.pipeTo(new WritableStream()).catch(() => {});
  const port = Number(first.trim().split("\n")[0]);
  return testS3(`http://127.0.0.1:${port}`, {
    async createBucket(name, client) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
    },
  });
}
