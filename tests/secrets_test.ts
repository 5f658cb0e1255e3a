/**
 * No secret is written anywhere. Secrets are planted in every input the
 * tool reads (endpoint user, password and query token by `--endpoint-url`,
 * `AWS_ENDPOINT_URL_S3` and a profile; `AWS_SECRET_ACCESS_KEY`,
 * `AWS_SESSION_TOKEN`, `PGPASSWORD`; a warehouse URL's password), runs
 * that succeed and runs that fail are made in child processes against the
 * in-process S3 endpoint, and then everything the tool wrote is scanned:
 * stdout and stderr, every file under the cache dir (manifests, run
 * records, cached data, the report), and the objects published to the
 * bucket with their metadata.
 */

import assert from "node:assert/strict";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { createLogger } from "../materializer/log.ts";
import { publicUrl, redact, redactValue, secretsOf } from "../resources/secrets.ts";
import { csv, row, runProcess, withTempDir } from "./_helpers.ts";
import { PG_TEST_URL, withDatabase } from "./_postgres.ts";
import { startTestS3 } from "./_s3_server.ts";
import { recordSummary } from "./_summary.ts";

const DATE = "2021-01-30";
const BUCKET = "secrets-e2e";

/** One planted value per input; none may be written anywhere. */
const PLANTED = {
  flagUser: "planted-flag-user-4h2q",
  flagPassword: "planted-flag-password-8k1w",
  flagToken: "planted-flag-token-2m7e",
  envUser: "planted-env-user-5r3t",
  envPassword: "planted-env-password-1n9y",
  envToken: "planted-env-token-6b4u",
  profileUser: "planted-profile-user-3c8i",
  profilePassword: "planted-profile-password-7v2o",
  profileToken: "planted-profile-token-9x5p",
  secretAccessKey: "planted-secret-access-key-4z6a",
  sessionToken: "planted-session-token-2j8s",
  pgPassword: "planted-pgpassword-5f1d",
  warehousePassword: "planted-warehouse-password-8g3f",
};

/** `http://USER:PASSWORD@host:port/?token=TOKEN` for an endpoint `http://host:port`. */
function withCredentials(endpoint: string, user: string, password: string, token: string) {
  return endpoint.replace("http://", `http://${user}:${password}@`) + `/?token=${token}`;
}

/** Every file under `root`, as text (bytes decoded one to one, so nothing is lost). */
async function filesUnder(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const full = `${path}/${entry.name}`;
      if (entry.isDirectory) await walk(full);
      else if (entry.isFile) {
        out.set(full, new TextDecoder("latin1").decode(await Deno.readFile(full)));
      }
    }
  };
  await walk(root);
  return out;
}

Deno.test({
  name: "planted secrets never reach output, manifests, run records, the report or the bucket",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const s3 = await startTestS3();
    try {
      await s3.createBucket(BUCKET);
      await s3.put(BUCKET, {
        [`2021/01/30/a.csv`]: csv(
          row("a", "2021-01-30 01:00:00", "7", "Mobile"),
          row("b", "2021-01-30 02:00:00", "8", "Tablet"),
        ),
        [`2021/01/31/a.csv`]: csv(row("c", "2021-01-31 01:00:00", "7")),
      });
      await withTempDir(async (dir) => {
        const cache = `${dir}/cache`;
        const outputs: Record<string, string> = {};
        const env = {
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: PLANTED.secretAccessKey,
          AWS_SESSION_TOKEN: PLANTED.sessionToken,
          PGPASSWORD: PLANTED.pgPassword,
          AWS_REGION: "us-east-1",
        };
        const run = async (name: string, args: string[], extraEnv: Record<string, string> = {}) => {
          const r = await runProcess(args, { env: { ...env, ...extraEnv }, cwd: dir });
          outputs[`${name} stdout`] = r.stdout;
          outputs[`${name} stderr`] = r.stderr;
          return r;
        };
        const base = [
          "--date",
          DATE,
          "--bucket",
          `s3://${BUCKET}`,
          "--initials",
          "T",
          "--cache-dir",
          cache,
          "--retries",
          "0",
        ];
        const every = [
          "--select",
          "published_csv,published_parquet,hourly_device_counts",
          "--with-rows",
        ];

        await t.step("--endpoint-url with user, password and token: the run succeeds", async () => {
          const endpoint = withCredentials(
            s3.endpoint,
            PLANTED.flagUser,
            PLANTED.flagPassword,
            PLANTED.flagToken,
          );
          const r = await run("flag", [
            "materialize",
            ...base,
            ...every,
            "--endpoint-url",
            endpoint,
            "--report",
            `${cache}/after-run.html`,
          ]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(
            await s3.text(BUCKET, "results/2021/01/30/daily_agg_20210130_T.csv"),
            "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n7,1,1\n8,2,1\n",
          );
          const manifest = JSON.parse(
            await Deno.readTextFile(`${cache}/${DATE}/published_csv/manifest.json`),
          );
          assert.equal(manifest.inputs.params.bucket, `s3://${BUCKET}@${s3.endpoint}/`);
          const record = (await filesUnder(`${cache}/runs`)).values().next().value!;
          assert.match(
            record,
            /"endpoint-url": "http:\/\/\*\*\*@127\.0\.0\.1:\d+\/\?token=\*\*\*"/,
          );
        });

        await t.step(
          "AWS_ENDPOINT_URL_S3 with user, password and token: the run succeeds",
          async () => {
            const r = await run("env", ["materialize", ...base, ...every, "--force"], {
              AWS_ENDPOINT_URL_S3: withCredentials(
                s3.endpoint,
                PLANTED.envUser,
                PLANTED.envPassword,
                PLANTED.envToken,
              ),
            });
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stderr, /published_csv: materialized .*uploaded=false/);
          },
        );

        await t.step(
          "an endpoint in the profile: plan and a run of the next day succeed",
          async () => {
            const config = `${dir}/pipeline.config.json`;
            await Deno.writeTextFile(
              config,
              JSON.stringify({
                profiles: {
                  default: {
                    endpointUrl: withCredentials(
                      s3.endpoint,
                      PLANTED.profileUser,
                      PLANTED.profilePassword,
                      PLANTED.profileToken,
                    ),
                  },
                },
              }),
            );
            const plan = await run("plan", ["plan", ...base, ...every, "--config", config]);
            assert.equal(plan.code, 0, plan.stderr);
            const next = [...base];
            next[1] = "2021-01-31";
            const r = await run("profile", ["materialize", ...next, "--config", config]);
            assert.equal(r.code, 0, r.stderr);
          },
        );

        await t.step("an endpoint that refuses connections: the run fails, saying so", async () => {
          const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
          const closed = `http://127.0.0.1:${listener.addr.port}`;
          listener.close();
          const r = await run("refused", [
            "materialize",
            ...base,
            "--force",
            "--endpoint-url",
            withCredentials(
              closed,
              PLANTED.flagUser,
              PLANTED.flagPassword,
              PLANTED.flagToken,
            ),
          ]);
          assert.equal(r.code, 1);
          assert.match(r.stderr, /raw_partition: failed/);
        });

        await t.step("a PostgreSQL warehouse URL with a password that cannot connect", async () => {
          const r = await run("warehouse", [
            "materialize",
            ...base,
            "--select",
            "warehouse_hourly_counts",
            "--endpoint-url",
            s3.endpoint,
            "--timeout",
            "5s",
            "--warehouse",
            `postgres://impressions:${PLANTED.warehousePassword}@127.0.0.1:1/analytics`,
          ]);
          assert.equal(r.code, 1);
          assert.match(r.stderr, /postgres:\/\/(impressions|\*\*\*)@127\.0\.0\.1:1/);
        });

        if (PG_TEST_URL) {
          await t.step("a PostgreSQL warehouse that accepts the run", async () => {
            await withDatabase(PG_TEST_URL!, async (database) => {
              const url = new URL(database);
              // Its own password is a secret too; with none (trust), a planted one is never asked for.
              if (!url.password) url.password = PLANTED.warehousePassword;
              else PLANTED.warehousePassword = decodeURIComponent(url.password);
              const r = await run("postgres", [
                "materialize",
                ...base,
                "--select",
                "warehouse_hourly_counts",
                "--endpoint-url",
                s3.endpoint,
                "--warehouse",
                url.href,
              ]);
              assert.equal(r.code, 0, r.stderr);
            });
          });
        }

        await t.step("report", async () => {
          const r = await run("report", [
            "report",
            "--from",
            DATE,
            "--to",
            "2021-01-31",
            "--cache-dir",
            cache,
            "--out",
            `${cache}/report.html`,
          ]);
          assert.equal(r.code, 0, r.stderr);
        });

        await t.step("nothing written holds a planted secret", async () => {
          const written = new Map(Object.entries(outputs));
          for (const [path, text] of await filesUnder(cache)) written.set(path, text);
          assert.ok([...written.keys()].some((p) => p.endsWith("report.html")));
          assert.ok([...written.keys()].some((p) => p.includes("/runs/")));
          assert.ok([...written.keys()].some((p) => p.endsWith("published_parquet/manifest.json")));
          let token: string | undefined;
          do {
            const page = await s3.client.send(
              new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }),
            );
            for (const object of page.Contents ?? []) {
              const got = await s3.client.send(
                new GetObjectCommand({ Bucket: BUCKET, Key: object.Key! }),
              );
              const body = await got.Body!.transformToByteArray();
              written.set(`s3 ${object.Key}`, new TextDecoder("latin1").decode(body));
              written.set(
                `s3 ${object.Key} metadata`,
                JSON.stringify({
                  metadata: got.Metadata,
                  contentType: got.ContentType,
                  disposition: got.ContentDisposition,
                  encoding: got.ContentEncoding,
                  tagging: got.TagCount,
                }),
              );
            }
            token = page.IsTruncated ? page.NextContinuationToken : undefined;
          } while (token);
          assert.ok([...written.keys()].some((k) => k.endsWith("impressions_20210130_T.parquet")));
          const leaks: string[] = [];
          for (const [where, text] of written) {
            for (const [name, secret] of Object.entries(PLANTED)) {
              if (text.includes(secret)) leaks.push(`${name} in ${where}`);
            }
          }
          assert.deepEqual(leaks, []);
        });
      });
    } finally {
      await s3.stop();
    }
    recordSummary({ badInputs: Object.keys(PLANTED).length });
  },
});

Deno.test("redact: URL credentials and query values by shape, known secrets anywhere", () => {
  const secrets = secretsOf({
    env: {
      AWS_SECRET_ACCESS_KEY: "key-123456",
      AWS_ENDPOINT_URL_S3: "https://tok-abcdef@s3.example:9000/?sig=s%2Fg-1",
    },
    values: ["http://u:p%40ss-word@h:1/", undefined, "postgres://app@db/x"],
  });
  assert.deepEqual(
    [...secrets].sort(),
    ["key-123456", "p%40ss-word", "p@ss-word", "s%2Fg-1", "s/g-1", "tok-abcdef", "u:p%40ss-word"]
      .sort(),
  );
  assert.equal(
    redact("GET http://u:p%40ss-word@h:1/b?list-type=2&sig=s%2Fg-1 failed: p@ss-word", secrets),
    "GET http://***@h:1/b?list-type=***&sig=*** failed: ***",
  );
  // Key URIs keep their `?`; a lone user name stays (postgres://USER@HOST) unless it was given as a secret.
  assert.equal(redact("s3://b/k?x=1 postgres://app@db/x"), "s3://b/k?x=1 postgres://app@db/x");
  assert.equal(
    redact("https://tok-abcdef@s3.example:9000/", secrets),
    "https://***@s3.example:9000/",
  );
  assert.deepEqual(
    redactValue({ "a key-123456": ["x key-123456", 1, null, { e: '"key-123456"' }] }, secrets),
    { "a ***": ["x ***", 1, null, { e: '"***"' }] },
  );
  assert.equal(publicUrl("HTTP://u:p@Host:9000/base?t=1#f"), "http://host:9000/base");
  assert.equal(publicUrl("not a url"), undefined);
});

Deno.test("log lines: a secret is removed before formatting, so one JSON would escape is too", () => {
  const secret = 'pa"ss\\word-7';
  for (const format of ["json", "text"] as const) {
    const lines: string[] = [];
    const log = createLogger({ format, write: (l) => lines.push(l), redact: [secret] });
    log.child({ endpoint: `http://u:${secret}@h/` }).log("warn", `retry: ${secret} refused`, {
      detail: { why: secret },
    });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0].includes(secret), lines[0]);
    assert.ok(!lines[0].includes(JSON.stringify(secret).slice(1, -1)), lines[0]);
    assert.match(lines[0], /retry: \*\*\* refused/);
  }
});
