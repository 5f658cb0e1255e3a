import assert from "node:assert/strict";
import { recordSummary } from "./_summary.ts";
import { type Instant, parseDatetime } from "../engine/datetime.ts";
import { Rng } from "./_rng.ts";

const encoder = new TextEncoder();

/** 400 Gregorian years, in milliseconds: the calendar repeats after them. */
const FOUR_CENTURIES_MS = 146_097 * 86_400_000;

/**
 * Epoch seconds of a UTC date and time, by `Date.UTC`. `Date.UTC` reads years
 * 0 to 99 as 1900 to 1999, so the year is shifted by 400 years and back.
 */
function utcSeconds(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): number {
  return (Date.UTC(year + 400, month - 1, day, hour, minute, second) - FOUR_CENTURIES_MS) / 1000;
}

/** Parses `text`; returns the instant or the reason. */
function run(text: string | Uint8Array): Instant | string {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  const out: Instant = { seconds: 0, nanos: 0 };
  const reason = parseDatetime(bytes, 0, bytes.length, out);
  return reason ?? out;
}

Deno.test("parseDatetime() accepts each documented form", async (t) => {
  const base = utcSeconds(2021, 1, 30, 12, 15, 2);

  await t.step("space or T between date and time", () => {
    assert.equal(base, 1_612_008_902);
    assert.deepEqual(run("2021-01-30 12:15:02"), { seconds: base, nanos: 0 });
    assert.deepEqual(run("2021-01-30T12:15:02"), { seconds: base, nanos: 0 });
  });

  await t.step("1 to 9 fraction digits", () => {
    const cases: [string, number][] = [
      ["5", 500_000_000],
      ["12", 120_000_000],
      ["123", 123_000_000],
      ["1234", 123_400_000],
      ["12345", 123_450_000],
      ["123456", 123_456_000],
      ["1234567", 123_456_700],
      ["12345678", 123_456_780],
      ["123456789", 123_456_789],
      ["000000001", 1],
      ["999999999", 999_999_999],
      ["0", 0],
    ];
    for (const [fraction, nanos] of cases) {
      assert.deepEqual(run(`2021-01-30 12:15:02.${fraction}`), { seconds: base, nanos }, fraction);
      assert.deepEqual(run(`2021-01-30T12:15:02.${fraction}Z`), { seconds: base, nanos }, fraction);
    }
  });

  await t.step("Z and numeric offsets", () => {
    assert.deepEqual(run("2021-01-30 12:15:02Z"), { seconds: base, nanos: 0 });
    assert.deepEqual(run("2021-01-30 12:15:02+00:00"), { seconds: base, nanos: 0 });
    assert.deepEqual(run("2021-01-30 12:15:02-00:00"), { seconds: base, nanos: 0 });
    assert.deepEqual(run("2021-01-30 12:15:02+05:30"), {
      seconds: utcSeconds(2021, 1, 30, 6, 45, 2),
      nanos: 0,
    });
    assert.deepEqual(run("2021-01-30 12:15:02-08:00"), {
      seconds: utcSeconds(2021, 1, 30, 20, 15, 2),
      nanos: 0,
    });
    assert.deepEqual(run("2021-01-30T12:15:02.25+23:59"), {
      seconds: base - (23 * 3600 + 59 * 60),
      nanos: 250_000_000,
    });
    // An offset can move the instant to another UTC date.
    assert.deepEqual(run("2021-01-01 00:30:00+01:00"), {
      seconds: utcSeconds(2020, 12, 31, 23, 30, 0),
      nanos: 0,
    });
    assert.deepEqual(run("2021-12-31T23:30:00-01:00"), {
      seconds: utcSeconds(2022, 1, 1, 0, 30, 0),
      nanos: 0,
    });
  });

  await t.step("leap days", () => {
    assert.deepEqual(run("2020-02-29 00:00:00"), { seconds: utcSeconds(2020, 2, 29), nanos: 0 });
    assert.deepEqual(run("2000-02-29 23:59:59"), {
      seconds: utcSeconds(2000, 2, 29, 23, 59, 59),
      nanos: 0,
    });
    assert.equal(
      (run("2020-03-01 00:00:00") as Instant).seconds -
        (run("2020-02-28 00:00:00") as Instant).seconds,
      2 * 86_400,
    );
  });

  await t.step("instants before 1970 and far years", () => {
    assert.deepEqual(run("1969-12-31 23:59:59.5"), { seconds: -1, nanos: 500_000_000 });
    assert.deepEqual(run("1970-01-01 00:00:00"), { seconds: 0, nanos: 0 });
    assert.deepEqual(run("0000-01-01 00:00:00"), { seconds: utcSeconds(0, 1, 1), nanos: 0 });
    assert.deepEqual(run("0099-12-31 12:00:00"), {
      seconds: utcSeconds(99, 12, 31, 12),
      nanos: 0,
    });
    assert.deepEqual(run("9999-12-31 23:59:59.999999999"), {
      seconds: utcSeconds(9999, 12, 31, 23, 59, 59),
      nanos: 999_999_999,
    });
  });

  await t.step("12:15:02 and 12:15:02.000 are the same instant", () => {
    const plain = run("2021-01-30 12:15:02");
    for (const other of ["12:15:02.000", "12:15:02.0", "12:15:02.000000000", "12:15:02Z"]) {
      assert.deepEqual(run(`2021-01-30 ${other}`), plain, other);
    }
    assert.deepEqual(run("2021-01-30 13:15:02.000+01:00"), plain);
  });

  await t.step("only bytes[start:end] are read", () => {
    const bytes = encoder.encode("xx2021-01-30 12:15:02.5Zyy");
    const out: Instant = { seconds: 0, nanos: 0 };
    assert.equal(parseDatetime(bytes, 2, bytes.length - 2, out), null);
    assert.deepEqual(out, { seconds: base, nanos: 500_000_000 });
    assert.equal(
      parseDatetime(bytes, 2, bytes.length - 1, out),
      "unexpected text after the time",
    );
  });
});

Deno.test("parseDatetime() rejects each malformed form with its reason", async (t) => {
  const NOT_A_DATETIME = "not a datetime like 2021-01-30 12:15:02";
  const FRACTION = "the fraction must have 1 to 9 digits";
  const TRAILING = "unexpected text after the time";
  const OFFSET = "the offset must look like +HH:MM";
  const cases: [string, string, string][] = [
    ["hour 24", "2021-01-30 24:00:00", "hour 24 is out of range"],
    ["hour 25", "2021-01-30 25:15:02", "hour 25 is out of range"],
    ["hour 99", "2021-01-30T99:15:02Z", "hour 99 is out of range"],
    ["minute 60", "2021-01-30 12:60:02", "minute 60 is out of range"],
    ["second 60", "2021-01-30 12:15:60", "second 60 is out of range"],
    ["February 30", "2021-02-30 12:15:02", "day 30 is out of range for 2021-02"],
    ["February 29 of a common year", "2021-02-29 12:15:02", "day 29 is out of range for 2021-02"],
    ["February 29 of 1900", "1900-02-29 00:00:00", "day 29 is out of range for 1900-02"],
    ["April 31", "2021-04-31 00:00:00", "day 31 is out of range for 2021-04"],
    ["day 0", "2021-01-00 00:00:00", "day 0 is out of range for 2021-01"],
    ["month 13", "2021-13-01 12:15:02", "month 13 is out of range"],
    ["month 0", "2021-00-10 12:15:02", "month 0 is out of range"],
    ["10 fraction digits", "2021-01-30 12:15:02.1234567890", FRACTION],
    ["a dot with no digits", "2021-01-30 12:15:02.", FRACTION],
    ["a dot then Z", "2021-01-30 12:15:02.Z", FRACTION],
    ["trailing letter", "2021-01-30 12:15:02x", TRAILING],
    ["trailing space", "2021-01-30 12:15:02 ", TRAILING],
    ["trailing zone name", "2021-01-30 12:15:02.5 UTC", TRAILING],
    ["text after Z", "2021-01-30 12:15:02Zx", TRAILING],
    ["lowercase z", "2021-01-30 12:15:02z", TRAILING],
    ["offset without colon", "2021-01-30 12:15:02+0530", TRAILING],
    ["offset with one hour digit", "2021-01-30 12:15:02+5:30", TRAILING],
    ["offset with seconds", "2021-01-30 12:15:02+05:30:00", TRAILING],
    ["hours-only offset", "2021-01-30 12:15:02+05", TRAILING],
    ["offset hour 24", "2021-01-30 12:15:02+24:00", OFFSET],
    ["offset minute 60", "2021-01-30 12:15:02-05:60", OFFSET],
    ["offset with a dash for the colon", "2021-01-30 12:15:02+05-30", OFFSET],
    ["offset with a letter", "2021-01-30 12:15:02+0a:00", OFFSET],
    ["empty", "", NOT_A_DATETIME],
    ["too short", "2021-01-30 12:15", NOT_A_DATETIME],
    ["date only", "2021-01-30", NOT_A_DATETIME],
    ["one-digit month", "2021-1-30 12:15:02", NOT_A_DATETIME],
    ["one-digit hour", "2021-01-30 2:15:02.5", NOT_A_DATETIME],
    ["letters", "abcd-ef-gh ij:kl:mn", NOT_A_DATETIME],
    ["letter in the year", "2O21-01-30 12:15:02", NOT_A_DATETIME],
    ["lowercase t", "2021-01-30t12:15:02", NOT_A_DATETIME],
    ["slashes", "2021/01/30 12:15:02", NOT_A_DATETIME],
    ["sign in a field", "2021-+1-30 12:15:02", NOT_A_DATETIME],
    ["leading space", " 2021-01-30 12:15:02", NOT_A_DATETIME],
    ["non-ASCII digit", "2021-01-30 12:15:0\u0663", NOT_A_DATETIME],
  ];
  for (const [name, text, reason] of cases) {
    await t.step(name, () => {
      assert.equal(run(text), reason);
    });
  }
});

/**
 * Independent reference: a regular expression over the bytes (as Latin-1, so
 * a non-ASCII byte never matches) plus `Date.UTC` to validate and convert.
 * Returns the instant, or null for an invalid input.
 */
const REFERENCE_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))?$/;

function reference(bytes: Uint8Array): Instant | null {
  const text = String.fromCharCode(...bytes);
  const m = REFERENCE_PATTERN.exec(text);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(Date.UTC(year + 400, month - 1, day));
  if (
    month < 1 || month > 12 || date.getUTCFullYear() !== year + 400 ||
    date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day
  ) return null;
  let offset = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offset = (m[9] === "+" ? 1 : -1) * (oh * 3600 + om * 60);
  }
  return {
    seconds: utcSeconds(year, month, day, hour, minute, second) - offset,
    nanos: m[7] === undefined ? 0 : Number(m[7].padEnd(9, "0")),
  };
}

/** A random valid-looking datetime, with random fraction and offset. */
function randomDatetime(rng: Rng): string {
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  const year = rng.chance(0.8) ? 1960 + rng.int(100) : rng.int(10_000);
  const month = 1 + rng.int(12);
  const day = 1 + rng.int(31);
  let text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}${rng.pick([" ", "T"])}` +
    `${pad(rng.int(24), 2)}:${pad(rng.int(60), 2)}:${pad(rng.int(60), 2)}`;
  if (rng.chance(0.5)) {
    const digits = 1 + rng.int(9);
    text += ".";
    for (let i = 0; i < digits; i++) text += String(rng.int(10));
  }
  const zone = rng.int(3);
  if (zone === 1) text += "Z";
  if (zone === 2) text += `${rng.pick(["+", "-"])}${pad(rng.int(24), 2)}:${pad(rng.int(60), 2)}`;
  return text;
}

/** Bytes a mutation draws from: digits, separators, letters, and non-UTF-8. */
const MUTATION_BYTES = [
  ..."0123456789-:. TZ+-zt/".split("").map((c) => c.charCodeAt(0)),
  0x00,
  0x7f,
  0x80,
  0xbf,
  0xc3,
  0xe6,
  0xf0,
  0xff,
];

function randomByte(rng: Rng): number {
  return rng.chance(0.7) ? rng.pick(MUTATION_BYTES) : rng.int(256);
}

/** Applies 1 to 3 random byte edits. */
function mutate(bytes: Uint8Array, rng: Rng): Uint8Array {
  const out = [...bytes];
  const edits = 1 + rng.int(3);
  for (let e = 0; e < edits; e++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(5)) {
      case 0:
        out.splice(at, 0, randomByte(rng));
        break;
      case 1:
        out.splice(at, 1);
        break;
      case 2:
        if (at < out.length) out[at] = randomByte(rng);
        break;
      case 3:
        out.length = Math.min(out.length, at);
        break;
      default:
        // Change one digit to another digit (keeps the shape, breaks ranges).
        if (at < out.length && out[at] >= 0x30 && out[at] <= 0x39) out[at] = 0x30 + rng.int(10);
    }
  }
  return new Uint8Array(out);
}

Deno.test("parseDatetime() matches a Date.UTC reference on seeded fuzz input", () => {
  const rng = new Rng(86_400);
  const cases = 10_000;
  let accepted = 0;
  for (let n = 0; n < cases; n++) {
    let bytes: Uint8Array;
    const kind = rng.int(10);
    if (kind < 3) bytes = encoder.encode(randomDatetime(rng));
    else if (kind < 9) bytes = mutate(encoder.encode(randomDatetime(rng)), rng);
    else {
      bytes = new Uint8Array(rng.int(40));
      for (let i = 0; i < bytes.length; i++) bytes[i] = randomByte(rng);
    }
    // Place the value inside a larger buffer, between junk bytes.
    const before = rng.int(4);
    const buffer = new Uint8Array(before + bytes.length + rng.int(4)).fill(0x39);
    buffer.set(bytes, before);
    const out: Instant = { seconds: 0, nanos: 0 };
    const label = `case ${n}: [${[...bytes].join(",")}]`;
    const reason = parseDatetime(buffer, before, before + bytes.length, out);
    const expected = reference(bytes);
    if (reason === null) {
      assert.notEqual(expected, null, `${label}: accepted, reference rejects`);
      assert.deepEqual(out, expected, label);
      assert.ok(Number.isInteger(out.seconds) && Number.isInteger(out.nanos), label);
      assert.ok(out.nanos >= 0 && out.nanos < 1_000_000_000, label);
      accepted++;
    } else {
      assert.equal(typeof reason, "string", label);
      assert.ok(reason.length > 0, label);
      assert.equal(expected, null, `${label}: rejected (${reason}), reference accepts`);
    }
  }
  assert.ok(accepted > 1_000 && accepted < cases - 1_000, `${accepted} accepted`);
  recordSummary({ fuzzCases: cases });
  console.log(`datetime fuzz: ${cases} cases (${accepted} accepted, ${cases - accepted} rejected)`);
});
