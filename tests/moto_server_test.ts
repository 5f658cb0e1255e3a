import assert from "node:assert/strict";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { MOTO_MISSING, startMotoS3 } from "./_moto_server.ts";

Deno.test({
  name: "moto server: exactly one of many concurrent create-only PUTs wins",
  ignore: MOTO_MISSING,
  async fn() {
    const s3 = await startMotoS3();
    try {
      await s3.createBucket("conditional");
      const attempts = 16;
      const results = await Promise.allSettled(
        Array.from({ length: attempts }, (_, i) =>
          s3.client.send(
            new PutObjectCommand({
              Bucket: "conditional",
              Key: "lease",
              Body: `writer ${i}`,
              IfNoneMatch: "*",
            }),
          )),
      );
      const winners = results.flatMap((r, i) => r.status === "fulfilled" ? [i] : []);
      assert.equal(winners.length, 1);
      for (const r of results) {
        if (r.status === "rejected") {
          assert.equal((r.reason as { name?: string }).name, "PreconditionFailed");
        }
      }
      assert.equal(await s3.text("conditional", "lease"), `writer ${winners[0]}`);
      // If-Match on a stale ETag fails too.
      const stale = await s3.client.send(
        new PutObjectCommand({ Bucket: "conditional", Key: "lease", Body: "x", IfMatch: '"0"' }),
      ).then(() => "stored", (e) => (e as { name?: string }).name);
      assert.equal(stale, "PreconditionFailed");
    } finally {
      await s3.stop();
    }
  },
});
