/**
 * `deno run -A bench/phases.ts DAY_FOLDER [--date 2021-01-30]`: the CPU time
 * of each phase of a day's full run, measured one phase at a time on one
 * thread (the pipeline runs the parse phases on two workers at once, so its
 * wall time is about the sum below divided by the parallel share, plus the
 * serial phases).
 *
 * Each phase is timed on its own over all the day's objects: the CPU of
 * this process (user + system, `process.cpuUsage`) and wall time. A phase
 * that needs an earlier one's output (dedupe needs key records) gets it from
 * a run that is not timed. Start-up is a whole `deno run main.ts graph`
 * (module loading, no work), timed under GNU time when present.
 *
 * ```sh
 * deno run -A bench/phases.ts bench/out/day-10000000-4 --repeat 3
 * ```
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { createCsvScanner } from "../engine/csv_reader.ts";
import { createImpressionScan, type RowBlock } from "../engine/scan_impressions.ts";
import { KeyPartitions } from "../engine/key_partitions.ts";
import { createDedupeTable, dedupePartition, type RecordRun } from "../engine/dedupe.ts";
import { createCampaignHourCounter, formatCountsCsv } from "../engine/hourly_counts.ts";
import { resolveColumns } from "../engine/columns.ts";
import { openLocalBucket } from "../resources/local_bucket.ts";
import { datePrefix } from "../assets/raw_partition.ts";
import { taskPermissionFlags } from "../scripts/task_flags.ts";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const CHUNK = 1 << 20;

/** One phase's figures: CPU and wall seconds (medians of the repeats). */
interface PhaseFigure {
  phase: string;
  cpu: number;
  wall: number;
  note: string;
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Runs `fn` `repeat` times; the median CPU and wall seconds. */
async function timed(repeat: number, fn: () => unknown): Promise<{ cpu: number; wall: number }> {
  const cpu: number[] = [], wall: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const c = cpuSeconds(), w = performance.now();
    await fn();
    cpu.push(cpuSeconds() - c);
    wall.push((performance.now() - w) / 1000);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { cpu: median(cpu), wall: median(wall) };
}

/** Every chunk of a file, read as the scan tasks read it (1 MiB). */
function* chunks(path: string): Generator<Uint8Array> {
  const file = Deno.openSync(path);
  try {
    while (true) {
      const buffer = new Uint8Array(CHUNK);
      let filled = 0;
      while (filled < CHUNK) {
        const n = file.readSync(buffer.subarray(filled));
        if (n === null) break;
        filled += n;
      }
      if (filled === 0) return;
      yield buffer.subarray(0, filled);
      if (filled < CHUNK) return;
    }
  } finally {
    file.close();
  }
}

async function startUp(repeat: number): Promise<{ cpu: number; wall: number }> {
  const flags = taskPermissionFlags("materialize");
  const cpu: number[] = [], wall: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const out = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%e %U %S", Deno.execPath(), "run", ...flags, `${REPO}/main.ts`, "graph"],
      stdout: "null",
      stderr: "piped",
      cwd: REPO,
    }).output();
    const [e, u, s] = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)!
      .split(" ").map(Number);
    cpu.push(u + s);
    wall.push(e);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { cpu: median(cpu), wall: median(wall) };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      date: { type: "string", default: "2021-01-30" },
      repeat: { type: "string", default: "1" },
      json: { type: "string" },
      partitions: { type: "string" },
      skip: { type: "string", default: "" },
    },
    allowPositionals: true,
  });
  const root = positionals[0];
  if (!root) throw new Error("usage: bench/phases.ts DAY_FOLDER [--date D] [--repeat N]");
  const date = values.date, repeat = +values.repeat;
  const figures: PhaseFigure[] = [];
  const add = (phase: string, t: { cpu: number; wall: number }, note = "") => {
    figures.push({ phase, ...t, note });
    console.error(`${phase}: CPU ${t.cpu.toFixed(2)} s, wall ${t.wall.toFixed(2)} s ${note}`);
  };

  const early = values.skip !== "early";
  if (early) add("start-up (deno run main.ts graph)", await startUp(repeat));

  const bucket = await openLocalBucket({ root });
  let keys: { key: string; size: number }[] = [];
  add(
    "listing",
    await timed(repeat, async () => {
      keys = await Array.fromAsync(bucket.list(datePrefix(date)));
    }),
  );
  const paths = keys.filter((k) => k.key.endsWith(".csv")).map((k) => `${root}/${k.key}`)
    .sort();
  const bytes = keys.reduce((n, k) => n + k.size, 0);

  if (early) {
    await Deno.mkdir(`${REPO}/bench/out`, { recursive: true });
    const scratch = await Deno.makeTempDir({ dir: `${REPO}/bench/out`, prefix: "phases-" });
    try {
      add(
        "copying objects into the cache",
        await timed(repeat, async () => {
          for (const [i, path] of paths.entries()) await Deno.copyFile(path, `${scratch}/${i}.csv`);
        }),
      );
      for (let i = 0; i < paths.length; i++) await Deno.remove(`${scratch}/${i}.csv`);
    } finally {
      await Deno.remove(scratch, { recursive: true });
    }

    add(
      "reading (1 MiB chunks)",
      await timed(repeat, () => {
        for (const path of paths) for (const _ of chunks(path));
      }),
    );
  }

  // Columns of each file, from its header.
  const columns = paths.map((path) => {
    const first = chunks(path).next().value!;
    const header = new TextDecoder().decode(first.subarray(0, first.indexOf(0x0a)));
    return resolveColumns(path, header.split(","));
  });

  if (early) {
    add(
      "reading + splitting lines (CSV kernel, required fields)",
      await timed(repeat, () => {
        for (const [i, path] of paths.entries()) {
          const c = columns[i];
          const scanner = createCsvScanner({ onRecord: () => {} });
          scanner.limitFields(Math.max(c.id, c.datetime, c.campaign) + 1);
          for (const chunk of chunks(path)) scanner.push(chunk);
          scanner.end();
        }
      }),
    );
  }

  let rows = 0;
  const scanAll = (onBlock: (block: RowBlock, file: number) => void) => {
    rows = 0;
    for (const [i, path] of paths.entries()) {
      const scan = createImpressionScan({ key: path, date }, {
        blockRows: 1 << 16,
        onBlock: (block) => onBlock(block, i),
      });
      for (const chunk of chunks(path)) scan.push(chunk);
      rows += scan.finish().rows;
    }
  };
  if (early) {
    add(
      "+ parsing fields: ids (UUID packing), datetimes, campaigns, key hashes",
      await timed(repeat, () => scanAll(() => {})),
    );
  }

  // The partitions the pipeline would use in memory (~8,192 keys each).
  let count = 256;
  while (count < 4096 && count * 8192 < rows) count *= 2;
  if (values.partitions) count = +values.partitions;
  const parts = paths.map(() => new KeyPartitions(count));
  add(
    "+ key records into partitions",
    await timed(1, () => scanAll((block, file) => parts[file].add(block, 0))),
  );
  const records = parts.map((p) => p.take());

  const offsets: number[] = [];
  // Row offsets per file: from a scan that keeps only counts.
  {
    let at = 0;
    for (const path of paths) {
      offsets.push(at);
      let n = 0;
      const scan = createImpressionScan({ key: path, date }, {
        blockRows: 1 << 16,
        onBlock: (b) => n += b.rows,
      });
      for (const chunk of chunks(path)) scan.push(chunk);
      scan.finish();
      at += n;
    }
  }
  const kept = new Uint8Array(rows);
  let duplicates = 0;
  add(
    "dedupe (all partitions, one thread)",
    await timed(1, () => {
      const table = createDedupeTable();
      kept.fill(0);
      duplicates = 0;
      for (let p = 0; p < count; p++) {
        const runs: RecordRun[] = [];
        for (const [i, r] of records.entries()) {
          if (r[p].length > 0) runs.push({ records: r[p], rowOffset: offsets[i] });
        }
        duplicates += dedupePartition(runs, kept, table);
      }
    }),
    `(${count} partitions, ${duplicates} duplicates)`,
  );

  const hours = new Int8Array(rows).fill(3);
  const campaigns = new Uint32Array(rows);
  add(
    "counting (campaign x hour)",
    await timed(repeat, () => {
      const counter = createCampaignHourCounter(["1"]);
      counter.add(hours, campaigns, kept, rows);
      formatCountsCsv(counter.result());
    }),
  );
  const sha = await timed(repeat, async () => {
    await crypto.subtle.digest("SHA-256", hours);
    await crypto.subtle.digest("SHA-256", new Uint8Array(campaigns.buffer));
    await crypto.subtle.digest("SHA-256", kept);
  });
  add("checksums of the cached columns (SHA-256)", sha);

  console.log(
    `${paths.length} files, ${(bytes / 1e6).toFixed(0)} MB, ${rows} rows; one thread\n`,
  );
  console.log("| phase | CPU s | wall s | note |\n| --- | ---: | ---: | --- |");
  for (const f of figures) {
    console.log(`| ${f.phase} | ${f.cpu.toFixed(2)} | ${f.wall.toFixed(2)} | ${f.note} |`);
  }
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify({ figures, rows, bytes }));
}

if (import.meta.main) await main();
