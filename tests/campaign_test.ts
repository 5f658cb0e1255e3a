import assert from "node:assert/strict";
import { compareCampaigns, parseCampaign } from "../engine/campaign.ts";
import { Rng } from "./_rng.ts";

const INT64_MAX = 9_223_372_036_854_775_807n;
const INT64_MIN = -9_223_372_036_854_775_808n;
const NOT_AN_INTEGER = { error: "not an integer" };
const OUT_OF_RANGE = { error: "out of the 64-bit integer range" };

Deno.test("parseCampaign() canonicalizes integers and rejects the rest", async (t) => {
  const cases: [string, string, { id: string } | { error: string }][] = [
    ["plain", "9624", { id: "9624" }],
    ["leading zero", "09624", { id: "9624" }],
    ["one zero decimal", "9624.0", { id: "9624" }],
    ["three zero decimals", "9624.000", { id: "9624" }],
    ["negative", "-5", { id: "-5" }],
    ["explicit plus", "+7", { id: "7" }],
    ["zero", "0", { id: "0" }],
    ["negative zero", "-0", { id: "0" }],
    ["negative zero with decimals", "-000.00", { id: "0" }],
    ["zeros", "000", { id: "0" }],
    ["negative with leading zeros", "-0042.0", { id: "-42" }],
    ["empty", "", { id: "" }],
    ["non-zero fraction", "9624.5", NOT_AN_INTEGER],
    ["fraction ending in a non-zero digit", "9624.01", NOT_AN_INTEGER],
    ["exponent", "1e3", NOT_AN_INTEGER],
    ["letters", "abc", NOT_AN_INTEGER],
    ["hex", "0x10", NOT_AN_INTEGER],
    ["dot without digits", "12.", NOT_AN_INTEGER],
    ["fraction only", ".0", NOT_AN_INTEGER],
    ["sign only", "-", NOT_AN_INTEGER],
    ["two signs", "+-1", NOT_AN_INTEGER],
    ["thousands separator", "1,000", NOT_AN_INTEGER],
    ["non-ASCII digit", "\u0663", NOT_AN_INTEGER],
    // The caller trims; parseCampaign itself does not.
    ["leading space (not trimmed here)", " 12", NOT_AN_INTEGER],
    ["trailing space (not trimmed here)", "12 ", NOT_AN_INTEGER],
    ["int64 max", "9223372036854775807", { id: "9223372036854775807" }],
    ["int64 max, padded", "0009223372036854775807.0", { id: "9223372036854775807" }],
    ["int64 max + 1", "9223372036854775808", OUT_OF_RANGE],
    ["int64 min", "-9223372036854775808", { id: "-9223372036854775808" }],
    ["int64 min - 1", "-9223372036854775809", OUT_OF_RANGE],
    ["20 digits", "10000000000000000000", OUT_OF_RANGE],
    ["2^64", "18446744073709551616", OUT_OF_RANGE],
  ];
  for (const [name, text, expected] of cases) {
    await t.step(`${name}: ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parseCampaign(text), expected);
    });
  }
});

/** A random int64, spread over every magnitude, with the range ends. */
function randomInt64(rng: Rng): bigint {
  if (rng.chance(0.02)) return rng.pick([INT64_MAX, INT64_MIN, 0n, -1n, 1n, INT64_MAX - 1n]);
  const digits = 1 + rng.int(19);
  let text = String(1 + rng.int(9));
  for (let i = 1; i < digits; i++) text += String(rng.int(10));
  let value = BigInt(text);
  if (value > INT64_MAX) value %= INT64_MAX;
  return rng.chance(0.4) ? -value : value;
}

/** The reference order: numeric by BigInt, the empty id last. */
function referenceCompare(a: string, b: string): number {
  if (a === "" || b === "") return (a === "" ? 1 : 0) - (b === "" ? 1 : 0);
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

Deno.test("compareCampaigns() orders ids like BigInt, the empty id last", async (t) => {
  await t.step("examples", () => {
    const sorted = ["10", "", "9", "-3", "-10", "0", "100", "-9223372036854775808"]
      .sort(compareCampaigns);
    assert.deepEqual(sorted, ["-9223372036854775808", "-10", "-3", "0", "9", "10", "100", ""]);
    assert.equal(compareCampaigns("", ""), 0);
    assert.equal(compareCampaigns("7", "7"), 0);
    assert.ok(compareCampaigns("9223372036854775807", "") < 0);
    assert.ok(compareCampaigns("", "-9223372036854775808") > 0);
    assert.ok(compareCampaigns("-2", "-10") > 0);
    assert.ok(compareCampaigns("2", "10") < 0);
  });

  await t.step("2,000 seeded random ids", () => {
    const rng = new Rng(9_624);
    const ids: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      if (rng.chance(0.02)) {
        ids.push("");
        continue;
      }
      const value = randomInt64(rng);
      // Write the id in a random non-canonical way; parseCampaign must give
      // back the canonical decimal.
      const magnitude = (value < 0n ? -value : value).toString();
      const written = (value < 0n ? "-" : rng.chance(0.2) ? "+" : "") +
        "0".repeat(rng.chance(0.2) ? 1 + rng.int(3) : 0) + magnitude +
        (rng.chance(0.2) ? `.${"0".repeat(1 + rng.int(3))}` : "");
      const parsed = parseCampaign(written);
      assert.deepEqual(parsed, { id: value.toString() }, written);
      ids.push(value.toString());
    }
    const sign = (n: number) => Math.sign(n) + 0;
    for (let i = 0; i < ids.length; i++) {
      const a = ids[i];
      assert.equal(compareCampaigns(a, a), 0);
      for (const b of [ids[(i + 1) % ids.length], ids[rng.int(ids.length)]]) {
        const expected = referenceCompare(a, b);
        assert.equal(sign(compareCampaigns(a, b)), expected, `${a} vs ${b}`);
        assert.equal(sign(compareCampaigns(b, a)), sign(-expected), `${b} vs ${a}`);
      }
    }
    const sorted = [...ids].sort(compareCampaigns);
    assert.deepEqual(sorted, [...ids].sort(referenceCompare));
    console.log(`campaign order: ${ids.length} ids, ${ids.length * 4} comparisons and one sort`);
  });
});
