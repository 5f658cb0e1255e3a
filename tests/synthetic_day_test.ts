import assert from "node:assert/strict";
import { writeSyntheticDay } from "../scripts/synthetic_day.ts";

const EXPORT_HEADER =
  "AGENCY_ID,ADVERTISER_ID,ORDER_ID,CAMPAIGN_ID,IMPRESSION_ID,IMPRESSION_DATE,IMPRESSION_DATETIME,AD_ID,CREATIVE_ID,CREATIVE_TYPE,CREATIVE_SIZE,SITE_ID,PLACEMENT_ID,DEVICE_TYPE,OS_NAME,BROWSER_NAME,COUNTRY_CODE,REGION_CODE,IMPRESSION";
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "synthetic_day_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Reads a generated file as its header and data lines (no quoted fields). */
async function readLines(
  path: string,
): Promise<{ header: string; rows: string[] }> {
  const text = await Deno.readTextFile(path);
  assert.ok(text.endsWith("\n"), `${path} ends with a line break`);
  const [header, ...rows] = text.slice(0, -1).split("\n");
  return { header, rows };
}

Deno.test("writeSyntheticDay() gives the same bytes for the same seed", async () => {
  await withTempDir(async (dir) => {
    const options = { date: "2021-01-30", rows: 5_000, files: 3 };
    const a = await writeSyntheticDay({
      ...options,
      root: `${dir}/a`,
      seed: 42,
    });
    const b = await writeSyntheticDay({
      ...options,
      root: `${dir}/b`,
      seed: 42,
    });
    const c = await writeSyntheticDay({
      ...options,
      root: `${dir}/c`,
      seed: 43,
    });
    assert.equal(a.bytes, b.bytes);
    for (let i = 0; i < a.files.length; i++) {
      assert.deepEqual(
        await Deno.readFile(a.files[i]),
        await Deno.readFile(b.files[i]),
      );
    }
    assert.notDeepEqual(
      await Deno.readFile(a.files[0]),
      await Deno.readFile(c.files[0]),
    );
  });
});

Deno.test("writeSyntheticDay() writes the requested rows, split evenly over the requested files", async () => {
  await withTempDir(async (dir) => {
    const rows = 30_001;
    const result = await writeSyntheticDay({
      root: dir,
      date: "2021-01-30",
      rows,
      files: 5,
      seed: 3,
    });
    assert.deepEqual(
      result.files,
      [0, 1, 2, 3, 4].map((i) => `${dir}/2021/01/30/part-000${i}.csv`),
    );
    const listed = [];
    for await (const entry of Deno.readDir(`${dir}/2021/01/30`)) {
      listed.push(entry.name);
    }
    assert.deepEqual(listed.sort(), [
      "part-0000.csv",
      "part-0001.csv",
      "part-0002.csv",
      "part-0003.csv",
      "part-0004.csv",
    ]);

    let total = 0;
    let bytes = 0;
    for (const path of result.files) {
      const { header, rows: lines } = await readLines(path);
      assert.equal(header, EXPORT_HEADER);
      assert.equal(header.split(",").length, 19);
      assert.ok(
        Math.abs(lines.length - rows / 5) <= 1,
        `${path}: ${lines.length} rows`,
      );
      for (const line of lines) {
        const fields = line.split(",");
        assert.equal(fields.length, 19, line);
        assert.match(fields[3], /^\d+$/, line);
        assert.match(fields[4], UUID_V4, line);
        assert.match(fields[6], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.000$/);
        assert.equal(fields[5], fields[6].slice(0, 10), line);
        assert.ok(["Desktop", "Mobile", "Tablet", "CTV"].includes(fields[13]));
        assert.equal(fields[18], "1");
      }
      total += lines.length;
      bytes += (await Deno.stat(path)).size;
    }
    assert.equal(total, rows);
    assert.equal(result.rows, rows);
    assert.equal(result.bytes, bytes);
  });
});

Deno.test("writeSyntheticDay() re-emits about duplicateShare of the rows", async () => {
  await withTempDir(async (dir) => {
    const rows = 20_000;
    const result = await writeSyntheticDay({
      root: dir,
      date: "2021-01-30",
      rows,
      files: 4,
      duplicateShare: 0.05,
      seed: 11,
    });
    const fileOf = new Map<string, number>();
    const hours = new Array(24).fill(0);
    const campaigns = new Set<string>();
    let duplicates = 0;
    let acrossFiles = 0;
    let late = 0;
    for (const [index, path] of result.files.entries()) {
      for (const line of (await readLines(path)).rows) {
        const fields = line.split(",");
        const key = `${fields[4]}|${fields[6]}`;
        const seenIn = fileOf.get(key);
        if (seenIn === undefined) {
          fileOf.set(key, index);
        } else {
          duplicates++;
          if (seenIn !== index) acrossFiles++;
        }
        if (fields[5] === "2021-01-30") {
          hours[Number(fields[6].slice(11, 13))]++;
        } else {
          assert.equal(fields[5], "2021-01-29", line);
          assert.match(fields[6], /^2021-01-29 23:5\d:/, line);
          late++;
        }
        campaigns.add(fields[3]);
      }
    }
    assert.equal(fileOf.size + duplicates, rows);
    assert.ok(
      duplicates >= rows * 0.04 && duplicates <= rows * 0.06,
      `${duplicates} duplicates out of ${rows}`,
    );
    assert.equal(result.duplicates, duplicates);
    assert.ok(acrossFiles > duplicates / 2, `${acrossFiles} across files`);
    // ~0.1% late rows; the others cover every hour of the day.
    assert.ok(late >= 2 && late <= 80, `${late} late rows`);
    assert.ok(hours.every((count) => count > 0), `hours: ${hours}`);
    assert.ok(campaigns.size >= 200, `${campaigns.size} campaigns`);
  });
});

Deno.test("writeSyntheticDay() writes no duplicates when duplicateShare is 0", async () => {
  await withTempDir(async (dir) => {
    const result = await writeSyntheticDay({
      root: dir,
      date: "2021-01-30",
      rows: 5_000,
      duplicateShare: 0,
    });
    const keys = new Set<string>();
    for (const path of result.files) {
      for (const line of (await readLines(path)).rows) {
        const fields = line.split(",");
        keys.add(`${fields[4]}|${fields[6]}`);
      }
    }
    assert.equal(keys.size, 5_000);
    assert.equal(result.duplicates, 0);
  });
});

Deno.test("writeSyntheticDay() writes ISO datetimes with isoTimes", async () => {
  await withTempDir(async (dir) => {
    const result = await writeSyntheticDay({
      root: dir,
      date: "2024-03-01",
      rows: 2_000,
      files: 2,
      isoTimes: true,
    });
    for (const path of result.files) {
      for (const line of (await readLines(path)).rows) {
        const datetime = line.split(",")[6];
        assert.match(datetime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        // The previous day of 2024-03-01 is a leap day.
        assert.ok(
          datetime.startsWith("2024-03-01T") ||
            datetime.startsWith("2024-02-29T23:5"),
          datetime,
        );
        assert.equal(new Date(datetime).toISOString(), datetime);
      }
    }
  });
});

Deno.test("writeSyntheticDay() replaces earlier parts and rejects bad options", async () => {
  await withTempDir(async (dir) => {
    await writeSyntheticDay({
      root: dir,
      date: "2021-01-30",
      rows: 100,
      files: 6,
    });
    await Deno.writeTextFile(`${dir}/2021/01/30/_SUCCESS`, "");
    await writeSyntheticDay({
      root: dir,
      date: "2021-01-30",
      rows: 100,
      files: 2,
    });
    const names = [];
    for await (const entry of Deno.readDir(`${dir}/2021/01/30`)) {
      names.push(entry.name);
    }
    assert.deepEqual(names.sort(), [
      "_SUCCESS",
      "part-0000.csv",
      "part-0001.csv",
    ]);

    await assert.rejects(
      writeSyntheticDay({ root: dir, date: "2021-02-30", rows: 10 }),
      RangeError,
    );
    await assert.rejects(
      writeSyntheticDay({ root: dir, date: "2021-01-30", rows: 10, files: 0 }),
      RangeError,
    );
  });
});
