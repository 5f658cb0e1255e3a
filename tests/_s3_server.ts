/**
 * An in-process S3 endpoint (npm `fauxqs`) on 127.0.0.1 for end-to-end
 * tests, with a client to seed and inspect it.
 *
 * @module
 */

import { startFauxqs } from "fauxqs";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";

/** Credentials every test S3 client uses; set in the process for the SDK chain. */
export const TEST_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test-secret-key" };

/** A running endpoint. */
export interface TestS3 {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** A client pointed at it. */
  client: S3Client;
  /** The credentials the endpoint accepts. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Creates a bucket (at once on the in-process endpoint; await it on others). */
  createBucket(name: string): Promise<void>;
  /** Puts objects (key → text or bytes). */
  put(bucket: string, objects: Record<string, string | Uint8Array>): Promise<void>;
  /** Reads an object as text, or `null` when missing. */
  text(bucket: string, key: string): Promise<string | null>;
  /** Deletes an object. */
  remove(bucket: string, key: string): Promise<void>;
  /** LastModified of an object, or `null`. */
  lastModified(bucket: string, key: string): Promise<number | null>;
  /** Stops the server. */
  stop(): Promise<void>;
}

/** Starts an endpoint on a free port and puts test credentials in the environment. */
export async function startTestS3(): Promise<TestS3> {
  setTestCredentials();
  const server = await startFauxqs({ port: 0, logger: false, host: "127.0.0.1" });
  return testS3(server.address, {
    createBucket: (name) => Promise.resolve(void server.createBucket(name)),
    stop: () => server.stop(),
  });
}

/** Puts the test credentials in the process, for the SDK's credential chain. */
export function setTestCredentials(): void {
  Deno.env.set("AWS_ACCESS_KEY_ID", TEST_CREDENTIALS.accessKeyId);
  Deno.env.set("AWS_SECRET_ACCESS_KEY", TEST_CREDENTIALS.secretAccessKey);
  Deno.env.set("AWS_EC2_METADATA_DISABLED", "true");
}

/** A {@linkcode TestS3} over a running endpoint; `server` creates buckets and stops it. */
export function testS3(
  endpoint: string,
  server: { createBucket(name: string, client: S3Client): Promise<void>; stop(): Promise<void> },
  credentials: { accessKeyId: string; secretAccessKey: string } = TEST_CREDENTIALS,
): TestS3 {
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return {
    endpoint,
    client,
    credentials,
    createBucket: (name) => server.createBucket(name, client),
    async put(bucket, objects) {
      const entries = Object.entries(objects);
      for (let i = 0; i < entries.length; i += 32) {
        await Promise.all(
          entries.slice(i, i + 32).map(([key, body]) =>
            client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
          ),
        );
      }
    },
    async text(bucket, key) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await r.Body!.transformToString();
      } catch (error) {
        if ((error as { name?: string }).name === "NoSuchKey") return null;
        throw error;
      }
    },
    async remove(bucket, key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async lastModified(bucket, key) {
      try {
        const r = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return r.LastModified?.getTime() ?? null;
      } catch {
        return null;
      }
    },
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}
