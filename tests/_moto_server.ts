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

/** Options for {@linkcode startMotoS3}. */
export interface MotoOptions {
  /**
   * Check every request's SigV4 signature (moto's IAM authentication): the
   * server makes an IAM user allowed `s3:*`, and `credentials` are its key.
   */
  verifySignatures?: boolean;
  /**
   * The address it listens on (default 127.0.0.1; the returned client always
   * uses 127.0.0.1, so pass an address that includes it, such as 0.0.0.0).
   */
  host?: string;
}

/** The IAM calls that set up a user before authentication starts. */
const SETUP_CALLS = 3;

/** Starts a moto server on a free port and puts test credentials in the environment. */
export async function startMotoS3(options: MotoOptions = {}): Promise<TestS3> {
  const { python, reason } = motoPython();
  if (python === null) throw new Error(reason);
  setTestCredentials();
  const child = new Deno.Command(python, {
    args: [SERVER, "0", ...(options.host ? [options.host] : [])],
    env: options.verifySignatures ? { INITIAL_NO_AUTH_ACTION_COUNT: String(SETUP_CALLS) } : {},
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
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = options.verifySignatures ? await iamUser(endpoint) : undefined;
  return testS3(endpoint, {
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
  }, credentials);
}

/** Creates an IAM user allowed `s3:*` with an access key (the unauthenticated setup calls). */
async function iamUser(
  endpoint: string,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  // moto routes a request by the service in its credential scope.
  const authorization = "AWS4-HMAC-SHA256 Credential=setup/20240101/us-east-1/iam/aws4_request, " +
    "SignedHeaders=host, Signature=none";
  const iam = async (params: Record<string, string>) => {
    const response = await fetch(`${endpoint}/`, {
      method: "POST",
      headers: { authorization, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...params, Version: "2010-05-08" }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`moto IAM ${params.Action} failed: ${text}`);
    return text;
  };
  await iam({ Action: "CreateUser", UserName: "tester" });
  await iam({
    Action: "PutUserPolicy",
    UserName: "tester",
    PolicyName: "s3",
    PolicyDocument: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
    }),
  });
  const key = await iam({ Action: "CreateAccessKey", UserName: "tester" });
  return {
    accessKeyId: key.match(/<AccessKeyId>([^<]+)</)![1],
    secretAccessKey: key.match(/<SecretAccessKey>([^<]+)</)![1],
  };
}
