/**
 * End-to-end runs of the CLI, in process, against local-folder buckets.
 */

import assert from "node:assert/strict";
import { COMMANDS } from "../cli/main.ts";
import { recordSummary } from "./_summary.ts";
import {
  csv,
  gzip,
  materializeArgs,
  row,
  runCli,
  SAMPLE_BUCKET,
  withTempDir,
  writeObjects,
} from "./_helpers.ts";

const DATE = "2021-01-30";
const COMMAND_LIST = COMMANDS.join(", ");
const RESULT = "results/2021/01/30/daily_agg_20210130_T.csv";

async function readResult(bucket: string, initials = "T"): Promise<string> {
  return await Deno.readTextFile(
    `${bucket}/results/2021/01/30/daily_agg_20210130_${initials}.csv`,
  );
}

Deno.test("the sample bucket publishes the independently computed expected output", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/bucket`;
    await Deno.mkdir(bucket);
    // Copy the sample so the test never writes into the repository.
    for await (const entry of Deno.readDir(`${SAMPLE_BUCKET}/2021/01/30`)) {
      await writeObjects(bucket, {
        [`2021/01/30/${entry.name}`]: await Deno.readFile(
          `${SAMPLE_BUCKET}/2021/01/30/${entry.name}`,
        ),
      });
    }
    const result = await runCli([
      "materialize",
      "--date",
      DATE,
      "--bucket",
      bucket,
      "--cache-dir",
      `${dir}/cache`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout, [
      `file://${bucket}/results/2021/01/30/daily_agg_20210130_Guy_Fawkes.csv`,
    ]);
    const expected = await Deno.readTextFile(
      new URL("../sample/expected_daily_agg_20210130.csv", import.meta.url),
    );
    assert.equal(await readResult(bucket, "Guy_Fawkes"), expected);
    assert.match(result.stderr, /deduped_impressions: materialized .*duplicates=33 lateRows=1/);
    const manifest = JSON.parse(
      await Deno.readTextFile(`${dir}/cache/${DATE}/raw_partition/manifest.json`),
    );
    assert.deepEqual(manifest.metadata.ignoredObjects, ["2021/01/30/_SUCCESS"]);
  });
});

Deno.test("contract details: instants, late rows, empty and padded campaigns, sorting", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/b`;
    await writeObjects(bucket, {
      "2021/01/30/a.csv": csv(
        row("id-1", "2021-01-30 12:15:02", "9624.0"),
        row("id-2", "2021-01-30T23:59:59.999999999Z", "10"),
        row("id-3", "2021-01-30 00:30:00+01:00", "10"), // 23:30 on the 29th: late
        row("id-4", "2021-01-30 05:00:00", ""),
        row(" id-5 ", "2021-01-30 05:00:00", " 09624 "),
      ),
      "2021/01/30/nested/deeper/b.CSV": csv(
        row("id-1", "2021-01-30 12:15:02.000", "9624"), // duplicate of id-1
        row("id-5", "2021-01-30T05:00:00Z", "9624"), // duplicate of id-5 (trimmed)
        row("id-6", "2021-01-30 05:00:00", "-3"),
      ),
      "2021/01/30/c.csv.gz": await gzip(csv(row("id-7", "2021-01-30 05:10:00", "10"))),
      "2021/01/30/notes.txt": "ignored",
    });
    const result = await runCli([
      ...materializeArgs(bucket, `${dir}/cache`),
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      await Deno.readTextFile(`${bucket}/${RESULT}`),
      [
        "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT",
        "-3,5,1",
        "10,5,1",
        "10,23,1",
        "9624,5,1",
        "9624,12,1",
        ",5,1",
        "",
      ].join("\n"),
    );
    assert.match(
      result.stderr,
      /deduped_impressions: materialized .*rowsIn=9 rowsOut=7 duplicates=2 lateRows=1/,
    );
  });
});

Deno.test("a day with files but no rows publishes the header alone", async () => {
  await withTempDir(async (dir) => {
    const bucket = `${dir}/b`;
    await writeObjects(bucket, {
      "2021/01/30/empty.csv": "",
      "2021/01/30/header_only.csv":
        `\uFEFF ${"IMPRESSION_ID , IMPRESSION_DATETIME,CAMPAIGN_ID"}\r\n`,
    });
    const result = await runCli(
      [
        ...materializeArgs(bucket, `${dir}/c`),
      ],
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      await Deno.readTextFile(`${bucket}/${RESULT}`),
      "CAMPAIGN_ID,IMPRESSION_HOUR,IMPRESSION_COUNT\n",
    );
  });
});

Deno.test("bad input fails with one located line, exit 1, and nothing published", async (t) => {
  const cases: [string, string, string][] = [
    [
      "unparseable time",
      csv(row("a", "2021-01-30 12:00:00", "1"), row("b", "2021-01-30 25:00:00", "1")),
      'error: 2021/01/30/a.csv line 3, column IMPRESSION_DATETIME: hour 25 is out of range (value "2021-01-30 25:00:00")',
    ],
    [
      "impossible date",
      csv(row("b", "2021-02-30 01:00:00", "1")),
      'error: 2021/01/30/a.csv line 2, column IMPRESSION_DATETIME: day 30 is out of range for 2021-02 (value "2021-02-30 01:00:00")',
    ],
    [
      "missing id",
      csv(row("", "2021-01-30 01:00:00", "1")),
      "error: 2021/01/30/a.csv line 2, column IMPRESSION_ID: missing IMPRESSION_ID",
    ],
    [
      "non-integer campaign",
      csv(row("a", "2021-01-30 01:00:00", "12.5")),
      'error: 2021/01/30/a.csv line 2, column CAMPAIGN_ID: not an integer (value "12.5")',
    ],
    [
      "wrong field count",
      csv(row("a", "2021-01-30 01:00:00", "1") + ",extra"),
      "error: 2021/01/30/a.csv line 2: expected 19 fields, found 20",
    ],
    [
      "unterminated quote",
      csv(row("a", "2021-01-30 01:00:00", "1"), '1,2,3,4,"x'),
      "error: 2021/01/30/a.csv line 3, column IMPRESSION_ID: unterminated quoted field",
    ],
    [
      "missing column",
      "IMPRESSION_ID,CAMPAIGN_ID\na,1\n",
      'error: blocked by failed check raw_partition.required_columns: 2021/01/30/a.csv: missing column IMPRESSION_DATETIME (header: "IMPRESSION_ID,CAMPAIGN_ID")',
    ],
  ];
  recordSummary({ badInputs: cases.length });
  for (const [name, body, message] of cases) {
    await t.step(name, async () => {
      await withTempDir(async (dir) => {
        const bucket = `${dir}/b`;
        await writeObjects(bucket, { "2021/01/30/a.csv": body });
        const result = await runCli(
          [
            ...materializeArgs(bucket, `${dir}/c`),
          ],
        );
        assert.equal(result.code, 1);
        assert.deepEqual(result.stdout, []);
        assert.equal(result.stderr.split("\n").at(-1), message);
        await assert.rejects(Deno.stat(`${bucket}/results`), Deno.errors.NotFound);
      });
    });
  }
});

Deno.test("a prefix without CSV objects names the prefix", async () => {
  await withTempDir(async (dir) => {
    await writeObjects(`${dir}/b`, { "2021/01/30/_SUCCESS": "" });
    const result = await runCli(
      ["materialize", "--date", DATE, "--bucket", `${dir}/b`, "--cache-dir", `${dir}/c`],
    );
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr.split("\n").at(-1),
      `error: no CSV objects under file://${dir}/b/2021/01/30/`,
    );
  });
});

Deno.test("usage errors exit 2 with one line", async (t) => {
  const cases: [string[], string][] = [
    [
      ["materialize", "--date", "2021-02-30"],
      'usage error: invalid date "2021-02-30": use YYYY-MM-DD (a real date), today or yesterday',
    ],
    [
      ["materialize", "--date", "30/01/2021"],
      'usage error: invalid date "30/01/2021": use YYYY-MM-DD (a real date), today or yesterday',
    ],
    [["materialize", "--date", DATE, "--bogus"], "usage error: Unknown option '--bogus'"],
    [
      ["materialize", "--date", DATE, "--initials", "a/b"],
      'usage error: --initials "a/b" must match [A-Za-z0-9_-]{1,32}',
    ],
    [
      ["materialize"],
      "usage error: --date (or --from and --to) is required, e.g. --date 2021-01-30",
    ],
    [
      ["explode"],
      'usage error: unknown command "explode"; commands: ' + COMMAND_LIST,
    ],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), async () => {
      const result = await runCli(args, { defaultBucket: SAMPLE_BUCKET });
      assert.equal(result.code, 2);
      assert.equal(result.stderr.split("\n")[0], message);
    });
  }
  await t.step("no bucket anywhere", async () => {
    const result = await runCli(["materialize", "--date", DATE]);
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr.split("\n")[0],
      "usage error: no bucket: pass --bucket s3://NAME (or a local folder) or set IMPRESSIONS_BUCKET",
    );
  });
});

Deno.test("today and yesterday are UTC dates", async () => {
  await withTempDir(async (dir) => {
    await writeObjects(`${dir}/b`, {
      "2021/01/30/a.csv": csv(row("a", "2021-01-30 01:00:00", "1")),
    });
    const result = await runCli(
      ["materialize", "--date", "yesterday", "--bucket", `${dir}/b`, "--cache-dir", `${dir}/c`],
      { now: new Date("2021-01-31T00:30:00Z") },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout[0], /daily_agg_20210130_Guy_Fawkes\.csv$/);
  });
});

Deno.test("--help explains every flag with an example", async () => {
  const result = await runCli(["materialize", "--help"]);
  assert.equal(result.code, 0);
  for (
    const flag of [
      "--date",
      "--bucket",
      "--initials",
      "--force",
      "--cache-dir",
      "--endpoint-url",
      "--select",
      "--parallel",
    ]
  ) assert.ok(result.stderr.includes(flag), flag);
  assert.match(result.stderr, /Examples:\n {2}deno task materialize --date 2021-01-30/);
});
