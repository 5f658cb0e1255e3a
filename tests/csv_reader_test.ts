import assert from "node:assert/strict";
import { recordSummary } from "./_summary.ts";
import { type Options, parse } from "csv-parse/sync";
import {
  createCsvScanner,
  type CsvRecord,
  CsvSyntaxError,
  fieldLine,
  fieldText,
} from "../engine/csv_reader.ts";
import { Rng } from "./_rng.ts";

const encoder = new TextEncoder();

interface Parsed {
  rows: string[][];
  /** `record.line` of each record. */
  lines: number[];
  /** Physical line of the last byte of each record. */
  endLines: number[];
  /** `fieldLine` of every field, per record. */
  fieldLines: number[][];
}

/** Feeds `chunks` to a fresh scanner and collects every record. */
function scanChunks(chunks: Iterable<Uint8Array>): Parsed {
  const out: Parsed = { rows: [], lines: [], endLines: [], fieldLines: [] };
  const scanner = createCsvScanner({
    onRecord(record: CsvRecord) {
      const row: string[] = [];
      const lines: number[] = [];
      for (let i = 0; i < record.count; i++) {
        row.push(fieldText(record, i));
        lines.push(fieldLine(record, i));
      }
      let endLine = record.line;
      const last = record.ends[record.count - 1];
      for (let i = record.start; i < last; i++) if (record.bytes[i] === 0x0a) endLine++;
      out.rows.push(row);
      out.lines.push(record.line);
      out.endLines.push(endLine);
      out.fieldLines.push(lines);
    },
  });
  for (const chunk of chunks) scanner.push(chunk);
  scanner.end();
  return out;
}

function bytesOf(input: string | Uint8Array): Uint8Array {
  return typeof input === "string" ? encoder.encode(input) : input;
}

/** Scans `input` as a single chunk. */
function scan(input: string | Uint8Array): Parsed {
  return scanChunks([bytesOf(input)]);
}

/** Splits `bytes` into chunks of `size` bytes (the last may be shorter). */
function* chunksOf(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Splits `bytes` into chunks of random sizes, some of them empty. */
function randomChunks(bytes: Uint8Array, rng: Rng): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const maxSize = rng.pick([1, 2, 3, 7, 16, 64, 1024]);
  let at = 0;
  while (at < bytes.length) {
    const size = rng.chance(0.05) ? 0 : 1 + rng.int(maxSize);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Scans `input` as one chunk, then as 1-byte chunks; both must agree. */
function scanBothWays(input: string | Uint8Array): Parsed {
  const bytes = bytesOf(input);
  const whole = scanChunks([bytes]);
  assert.deepEqual(scanChunks(chunksOf(bytes, 1)), whole, "1-byte chunks differ from one chunk");
  return whole;
}

/** Asserts that scanning `input` throws this exact CsvSyntaxError. */
function assertSyntaxError(
  input: string | Uint8Array,
  expected: { reason: string; line: number; field: number },
): void {
  const bytes = bytesOf(input);
  for (const chunks of [[bytes], [...chunksOf(bytes, 1)], [...chunksOf(bytes, 3)]]) {
    assert.throws(
      () => scanChunks(chunks),
      (error: unknown) => {
        assert.ok(error instanceof CsvSyntaxError, `not a CsvSyntaxError: ${error}`);
        assert.equal(error.reason, expected.reason);
        assert.equal(error.line, expected.line);
        assert.equal(error.field, expected.field);
        assert.equal(
          error.message,
          `${expected.reason} (line ${expected.line}, field ${expected.field})`,
        );
        return true;
      },
    );
  }
}

Deno.test("createCsvScanner() handles each edge case", async (t) => {
  await t.step("plain and quoted fields", () => {
    const parsed = scanBothWays('id,"name",note\n1,"Ann Lee",x\n');
    assert.deepEqual(parsed.rows, [["id", "name", "note"], ["1", "Ann Lee", "x"]]);
    assert.deepEqual(parsed.lines, [1, 2]);
  });

  await t.step("doubled quotes inside quoted fields", () => {
    const parsed = scanBothWays('"say ""hi""","""",""""""\n""\n');
    assert.deepEqual(parsed.rows, [['say "hi"', '"', '""'], [""]]);
  });

  await t.step("commas, LF and CRLF inside quoted fields", () => {
    const parsed = scanBothWays('"a,b","line1\nline2","x\r\ny",","\nnext,row\n');
    assert.deepEqual(parsed.rows, [["a,b", "line1\nline2", "x\r\ny", ","], ["next", "row"]]);
    assert.deepEqual(parsed.lines, [1, 4]);
    assert.deepEqual(parsed.fieldLines, [[1, 1, 2, 3], [4, 4]]);
  });

  await t.step("CRLF file", () => {
    const parsed = scanBothWays("h1,h2\r\n1,2\r\n3,\r\n");
    assert.deepEqual(parsed.rows, [["h1", "h2"], ["1", "2"], ["3", ""]]);
    assert.deepEqual(parsed.lines, [1, 2, 3]);
  });

  await t.step("mixed LF and CRLF", () => {
    const parsed = scanBothWays('a\r\nb\nc\r\n"d"\n"e"\r\nf');
    assert.deepEqual(parsed.rows, [["a"], ["b"], ["c"], ["d"], ["e"], ["f"]]);
    assert.deepEqual(parsed.lines, [1, 2, 3, 4, 5, 6]);
  });

  await t.step("a UTF-8 BOM at the start is ignored", () => {
    const parsed = scanBothWays("\uFEFFid,name\n1,x\n");
    assert.deepEqual(parsed.rows, [["id", "name"], ["1", "x"]]);
    assert.deepEqual(scanBothWays('\uFEFF"id"\n').rows, [["id"]]);
    assert.deepEqual(scanBothWays("\uFEFF").rows, []);
    assert.deepEqual(scanBothWays("\uFEFF\n\n").rows, []);
  });

  await t.step("a BOM split across chunks, at every split point", () => {
    const bytes = encoder.encode("\uFEFFid\n1\n");
    for (let a = 0; a <= 4; a++) {
      for (let b = a; b <= 5; b++) {
        const chunks = [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)];
        assert.deepEqual(scanChunks(chunks).rows, [["id"], ["1"]], `split at ${a}, ${b}`);
      }
    }
    // Only the BOM's first bytes, then the end: they are data.
    assert.deepEqual(scanChunks([new Uint8Array([0xef]), new Uint8Array([0xbb])]).rows, [
      ["\uFFFD"],
    ]);
  });

  await t.step("a character starting with byte 0xEF is not a BOM", () => {
    // U+F000 is EF 80 80.
    const parsed = scanBothWays("\uF000x,y\n");
    assert.deepEqual(parsed.rows, [["\uF000x", "y"]]);
  });

  await t.step("only the first BOM is dropped; a later U+FEFF is data", () => {
    const parsed = scanBothWays('\uFEFF\uFEFFa,"\uFEFFb"\n\uFEFFc\n');
    assert.deepEqual(parsed.rows, [["\uFEFFa", "\uFEFFb"], ["\uFEFFc"]]);
  });

  await t.step("header only", () => {
    assert.deepEqual(scanBothWays("a,b,c\n").rows, [["a", "b", "c"]]);
    assert.deepEqual(scanBothWays("a,b,c").rows, [["a", "b", "c"]]);
    assert.deepEqual(scanBothWays("a,b,c\r\n").rows, [["a", "b", "c"]]);
  });

  await t.step("0-byte input", () => {
    assert.deepEqual(scanChunks([]).rows, []);
    assert.deepEqual(scanChunks([new Uint8Array(0)]).rows, []);
    assert.deepEqual(scanChunks([new Uint8Array(0), new Uint8Array(0)]).rows, []);
  });

  await t.step("empty lines are skipped, line numbers still count them", () => {
    const parsed = scanBothWays("\n\na\n\n\nb\n\n");
    assert.deepEqual(parsed.rows, [["a"], ["b"]]);
    assert.deepEqual(parsed.lines, [3, 6]);
  });

  await t.step("CRLF empty lines are skipped too", () => {
    const parsed = scanBothWays("\r\na\r\n\r\n\r\nb\r\n\r\n");
    assert.deepEqual(parsed.rows, [["a"], ["b"]]);
    assert.deepEqual(parsed.lines, [2, 5]);
    assert.deepEqual(scanBothWays("a\n\r\n\nb").lines, [1, 4]);
  });

  await t.step("lines that are not completely empty are records", () => {
    const parsed = scanBothWays(' \n""\n,\n\t\n');
    assert.deepEqual(parsed.rows, [[" "], [""], ["", ""], ["\t"]]);
    assert.deepEqual(parsed.lines, [1, 2, 3, 4]);
  });

  await t.step("no trailing newline", () => {
    assert.deepEqual(scanBothWays("a,b\nc,d").rows, [["a", "b"], ["c", "d"]]);
    assert.deepEqual(scanBothWays('a,b\n"c",""').rows, [["a", "b"], ["c", ""]]);
    assert.deepEqual(scanBothWays("a,b\nc,").rows, [["a", "b"], ["c", ""]]);
  });

  await t.step("a lone CR at the end of input ends the line", () => {
    assert.deepEqual(scanBothWays("a,b\r").rows, [["a", "b"]]);
    assert.deepEqual(scanBothWays('a,"b"\r').rows, [["a", "b"]]);
    assert.deepEqual(scanBothWays("a\n\r").rows, [["a"]]);
    assert.deepEqual(scanBothWays("\r").rows, []);
    // Only one CR is a line ending; the one before it is data.
    assert.deepEqual(scanBothWays("a\r\r").rows, [["a\r"]]);
  });

  await t.step("a CR that is not before LF or at the end is data", () => {
    assert.deepEqual(scanBothWays("a\rb,c\r\n").rows, [["a\rb", "c"]]);
    assert.deepEqual(scanBothWays("a\r\r\nb").rows, [["a\r"], ["b"]]);
    assert.deepEqual(scanBothWays('"a\rb"\n').rows, [["a\rb"]]);
  });

  await t.step("a quote inside an unquoted field is data", () => {
    const parsed = scanBothWays('55" TV,x\na""b,c"\n "q",z\n');
    assert.deepEqual(parsed.rows, [['55" TV', "x"], ['a""b', 'c"'], [' "q"', "z"]]);
  });

  await t.step("non-ASCII UTF-8 survives any chunking", () => {
    const parsed = scanBothWays('é,日本,"😀\n😀"\n');
    assert.deepEqual(parsed.rows, [["é", "日本", "😀\n😀"]]);
  });

  await t.step("a bad character after a closing quote is an error", () => {
    assertSyntaxError('a,b\n1,"x"y,2\n', {
      reason: "unexpected character 'y' after a closing quote",
      line: 2,
      field: 2,
    });
    assertSyntaxError('"x" ,b\n', {
      reason: "unexpected character ' ' after a closing quote",
      line: 1,
      field: 1,
    });
    // The error is on the line of the closing quote, not of the record start.
    assertSyntaxError('h\n"multi\nline"z\n', {
      reason: "unexpected character 'z' after a closing quote",
      line: 3,
      field: 1,
    });
    assertSyntaxError('a,"x"\rb\n', {
      reason: "unexpected byte 0x0d after a closing quote",
      line: 1,
      field: 2,
    });
    assertSyntaxError('a\n\n"x""y"""é\n', {
      reason: "unexpected byte 0xc3 after a closing quote",
      line: 3,
      field: 1,
    });
  });

  await t.step("an unterminated quote reports the line where the field starts", () => {
    assertSyntaxError('a\nb,"open\nmore\nstill', {
      reason: "unterminated quoted field",
      line: 2,
      field: 2,
    });
    assertSyntaxError('a\n"x\ny",\n\n1,2,"', {
      reason: "unterminated quoted field",
      line: 5,
      field: 3,
    });
    assertSyntaxError('"ab""', { reason: "unterminated quoted field", line: 1, field: 1 });
    assertSyntaxError('"', { reason: "unterminated quoted field", line: 1, field: 1 });
  });

  await t.step("a record spanning many lines keeps later line numbers right", () => {
    const inner = Array.from({ length: 200 }, (_, i) => `line ${i}`).join("\n");
    const parsed = scanBothWays(`h1,h2\r\n"${inner}",x\r\nnext,1\n\nlast,2\n`);
    assert.deepEqual(parsed.rows, [["h1", "h2"], [inner, "x"], ["next", "1"], ["last", "2"]]);
    assert.deepEqual(parsed.lines, [1, 2, 202, 204]);
    assert.deepEqual(parsed.fieldLines[1], [2, 201]);
  });

  await t.step("a 10 MB field in 64 KiB chunks takes linear time", () => {
    const size = 10 * 1024 * 1024;
    const bytes = new Uint8Array(size + 16);
    bytes.set(encoder.encode('a,"'));
    const body = encoder.encode('x,y\n""z');
    for (let i = 3; i < size + 3; i++) bytes[i] = body[i % body.length];
    // Make the field end cleanly: fix the tail, then close the quote.
    let end = size + 3;
    while (bytes[end - 1] === 0x22) end--;
    const tail = encoder.encode('",b\nc,d\n');
    bytes.set(tail, end);
    const input = bytes.subarray(0, end + tail.length);
    const fieldBytes = input.subarray(3, end);
    const started = performance.now();
    let fieldLength = -1;
    let records = 0;
    const scanner = createCsvScanner({
      onRecord(record) {
        records++;
        if (records === 1) {
          assert.equal(record.count, 3);
          fieldLength = record.ends[1] - record.starts[1];
          assert.equal(fieldText(record, 2), "b");
        }
      },
    });
    for (const chunk of chunksOf(input, 64 * 1024)) scanner.push(chunk);
    scanner.end();
    const elapsed = performance.now() - started;
    assert.equal(records, 2);
    assert.equal(fieldLength, fieldBytes.length);
    assert.ok(elapsed < 3_000, `took ${elapsed.toFixed(0)} ms`);
  });

  await t.step("a 10 MB unquoted field in 1 KiB chunks takes linear time", () => {
    const input = new Uint8Array(10 * 1024 * 1024 + 4).fill(0x61);
    input.set(encoder.encode("\nb\n"), input.length - 3);
    const started = performance.now();
    const lengths: number[] = [];
    const scanner = createCsvScanner({
      onRecord: (record) => lengths.push(record.ends[0] - record.starts[0]),
    });
    for (const chunk of chunksOf(input, 1024)) scanner.push(chunk);
    scanner.end();
    const elapsed = performance.now() - started;
    assert.deepEqual(lengths, [input.length - 3, 1]);
    assert.ok(elapsed < 3_000, `took ${elapsed.toFixed(0)} ms`);
  });

  await t.step("1-byte chunks give the same result as one chunk", () => {
    const input = '\uFEFFid,"note",x\r\n1,"a, ""b""\r\nc",é\n\n\r\n2,日本,"😀"\r\n3,55" TV,\r';
    const whole = scan(input);
    assert.deepEqual(whole.rows, [
      ["id", "note", "x"],
      ["1", 'a, "b"\r\nc', "é"],
      ["2", "日本", "😀"],
      ["3", '55" TV', ""],
    ]);
    assert.deepEqual(whole.lines, [1, 2, 6, 7]);
    const bytes = encoder.encode(input);
    assert.deepEqual(scanChunks(chunksOf(bytes, 1)), whole);
    for (let size = 2; size <= 9; size++) {
      assert.deepEqual(scanChunks(chunksOf(bytes, size)), whole);
    }
  });

  await t.step("the caller may reuse its chunk buffer after push()", () => {
    const input = encoder.encode('"abcdefghij,klm",x\nyy,"z\nz"\n"long field",1\n');
    const expected = scan(input);
    for (const size of [1, 2, 3, 4, 5, 8]) {
      const buffer = new Uint8Array(size);
      const result = scanChunks({
        *[Symbol.iterator]() {
          for (let i = 0; i < input.length; i += size) {
            const n = Math.min(size, input.length - i);
            buffer.fill(0x3f);
            buffer.set(input.subarray(i, i + n));
            yield buffer.subarray(0, n);
          }
        },
      });
      assert.deepEqual(result, expected, `chunk size ${size}`);
    }
  });
});

/**
 * Options that make csv-parse follow our contract: records end in CRLF or LF
 * only (csv-parse would otherwise guess one delimiter from the first line, and
 * would then keep a "\r" line as a record in an LF file), a BOM at the start
 * is dropped, quotes inside unquoted fields are data, rows may differ in
 * length, and only completely empty lines are skipped (csv-parse, like us,
 * keeps a line of spaces and a line holding `""`).
 */
const ORACLE_OPTIONS: Options = {
  bom: true,
  relax_quotes: true,
  relax_column_count: true,
  skip_empty_lines: true,
  record_delimiter: ["\r\n", "\n"],
  info: true,
};

interface OracleRecord {
  record: string[];
  info: { lines: number };
}

/** Runs csv-parse; returns its rows and end lines, or the error it threw. */
function oracle(text: string): { rows: string[][]; endLines: number[] } | Error {
  try {
    const records = parse(text, ORACLE_OPTIONS) as unknown as OracleRecord[];
    return {
      rows: records.map((r) => r.record),
      endLines: records.map((r) => r.info.lines),
    };
  } catch (error) {
    return error as Error;
  }
}

Deno.test("createCsvScanner() differs from csv-parse only where intended", async (t) => {
  await t.step("a lone CR at the end of input", () => {
    // Our contract: a CR at EOF ends the line (files cut after a CRLF
    // writer's CR). csv-parse keeps it as data because it is no delimiter.
    assert.deepEqual(scan("a,b\r").rows, [["a", "b"]]);
    assert.deepEqual((oracle("a,b\r") as { rows: string[][] }).rows, [["a", "b\r"]]);
    assert.deepEqual(scan("a\n\r").rows, [["a"]]);
    assert.deepEqual((oracle("a\n\r") as { rows: string[][] }).rows, [["a"], ["\r"]]);
  });

  await t.step("text after a closing quote", () => {
    // Our contract: `"x"y` is malformed and must be reported, not guessed at.
    // With relax_quotes csv-parse reads the whole field as unquoted text.
    for (const input of ['"x"y\n', '"x" ,b\n', '"x"\r\r\n', '"x"\ry\n']) {
      assert.throws(() => scan(input), CsvSyntaxError);
      assert.ok(!(oracle(input) instanceof Error), input);
    }
    assert.deepEqual((oracle('"x"y\n') as { rows: string[][] }).rows, [['"x"y']]);
  });

  await t.step("the line reported for an unterminated quote", () => {
    // We report where the quoted field starts; csv-parse where input ends.
    assert.throws(
      () => scan('a\n"b\nc\nd'),
      (e: unknown) => e instanceof CsvSyntaxError && e.line === 2,
    );
    const error = oracle('a\n"b\nc\nd');
    assert.ok(error instanceof Error);
    assert.match(error.message, /Quote Not Closed.*line 4/);
  });
});

/** Independent line numbers: 1 + the LF bytes before each record's start. */
function lfLinesOfRecords(bytes: Uint8Array): number[] {
  const starts: number[] = [];
  // With one push, a record is either in `bytes` or in the scanner's copy of
  // its unfinished tail, which `end()` scans.
  const scanner = createCsvScanner({
    onRecord: (record) => starts.push(record.start + bytes.length - record.bytes.length),
  });
  scanner.push(bytes);
  scanner.end();
  return starts.map((start) => {
    let line = 1;
    for (let i = 0; i < start; i++) if (bytes[i] === 0x0a) line++;
    return line;
  });
}

/** Pieces of field text, rich in the bytes that matter to a CSV reader. */
const ALPHABET = [
  "a",
  "b",
  "Z",
  "0",
  "9",
  " ",
  " ",
  ",",
  ",",
  '"',
  '"',
  "\r",
  "\n",
  "\r\n",
  "é",
  "日本",
  "😀",
  "\t",
  "\uFEFF",
  "x y",
];

interface Generated {
  text: string;
  /** Which defect was injected, if any. */
  defect: "none" | "unterminated" | "after-quote";
}

/** Writes one field, quoting it when needed or at random. */
function writeField(rng: Rng, value: string, last: boolean, final: boolean): string {
  const mustQuote = value.includes(",") || value.includes("\n") || value.startsWith('"');
  if (mustQuote || rng.chance(0.3)) return `"${value.replaceAll('"', '""')}"`;
  // A lone CR at the very end of input is a deliberate difference (tested
  // above); keep it out of the differential inputs.
  if (last && final) return value.replace(/\r+$/, "");
  return value;
}

/** A random document, optionally with one injected defect. */
function generate(rng: Rng): Generated {
  const crlfBias = rng.pick([0, 0.5, 1]);
  const records = rng.int(8);
  const trailingNewline = rng.chance(0.7);
  let text = rng.chance(0.3) ? "\uFEFF" : "";
  for (let r = 0; r < records; r++) {
    const final = r === records - 1 && !trailingNewline;
    if (rng.chance(0.1)) text += rng.chance(0.5) ? "\r\n" : "\n"; // an empty line
    const fields = 1 + rng.int(rng.chance(0.2) ? 12 : 4);
    const parts: string[] = [];
    for (let f = 0; f < fields; f++) {
      let value = "";
      const length = rng.chance(0.15) ? 0 : rng.int(7);
      for (let i = 0; i < length; i++) value += rng.pick(ALPHABET);
      parts.push(writeField(rng, value, f === fields - 1, final));
    }
    text += parts.join(",");
    if (!final) text += rng.chance(crlfBias) ? "\r\n" : "\n";
  }
  const roll = rng.int(20);
  if (roll === 0) {
    // An opening quote that never closes, at the start of a new field.
    const lead = text === "" || text.endsWith("\n") ? "" : ",";
    return {
      text: `${text}${lead}"open${rng.pick(["", "\n", ',""', "\r\nz"])}`,
      defect: "unterminated",
    };
  }
  if (roll === 1) {
    // Text right after a closing quote.
    const junk = rng.pick(["y", " ", '"', "\rq", "é"]);
    const lead = text === "" || text.endsWith("\n") ? "" : ",";
    return { text: `${text}${lead}"x"${junk},z\n`, defect: "after-quote" };
  }
  return { text, defect: "none" };
}

Deno.test("createCsvScanner() matches csv-parse on seeded random inputs", () => {
  const rng = new Rng(20_240_130);
  const cases = 3_000;
  const counts = { valid: 0, bothRejected: 0, onlyWeRejected: 0 };
  for (let n = 0; n < cases; n++) {
    const { text, defect } = generate(rng);
    const bytes = encoder.encode(text);
    const label = `case ${n}: ${JSON.stringify(text)}`;
    const expected = oracle(text);
    let ours: Parsed | unknown;
    try {
      ours = scanChunks(randomChunks(bytes, rng));
    } catch (error) {
      ours = error;
    }
    if (!(expected instanceof Error)) {
      if (ours instanceof CsvSyntaxError) {
        // Only the documented difference may be rejected by us alone.
        assert.equal(defect, "after-quote", `${label}: ${ours.message}`);
        assert.match(ours.reason, /^unexpected .* after a closing quote$/, label);
        counts.onlyWeRejected++;
        continue;
      }
      assert.ok(!(ours instanceof Error), `${label}: ${ours}`);
      const parsed = ours as Parsed;
      assert.deepEqual(parsed.rows, expected.rows, label);
      // csv-parse counts a CR inside a quoted field as a line break of its
      // own (and CRLF there as two), so its line numbers are physical (LF)
      // lines only when the input holds no CR.
      if (!text.includes("\r")) assert.deepEqual(parsed.endLines, expected.endLines, label);
      // The same input in one chunk gives the same records and lines, and
      // each record starts on 1 + the number of LF bytes before it.
      assert.deepEqual(scan(bytes), parsed, label);
      assert.deepEqual(parsed.lines, lfLinesOfRecords(bytes), label);
      counts.valid++;
    } else {
      assert.ok(ours instanceof CsvSyntaxError, `${label}: csv-parse threw ${expected.message}`);
      assert.notEqual(defect, "none", label);
      counts.bothRejected++;
    }
  }
  assert.ok(counts.valid >= 1_000, `only ${counts.valid} valid cases`);
  assert.ok(counts.bothRejected > 0 && counts.onlyWeRejected > 0);
  recordSummary({ fuzzCases: cases });
  console.log(
    `csv differential: ${cases} cases (${counts.valid} valid, ${counts.bothRejected} rejected by both, ${counts.onlyWeRejected} rejected by us only)`,
  );
});
