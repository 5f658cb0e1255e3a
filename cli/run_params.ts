/**
 * The params of a run: the runner's own (`RUN_PARAMS`) and the pipeline's
 * (`DEFINITIONS.params` and `DEFINITIONS.resourceParams`). Flags, profile
 * keys, their checks and `--help` derive from these.
 *
 * @module
 */

import {
  customParam,
  integerParam,
  type ParamSchema,
  switchParam,
  textParam,
} from "../materializer/params.ts";
import { DEFINITIONS } from "../assets/definitions.ts";
import { UsageError } from "./errors.ts";
import { durationMs } from "../assets/params.ts";

/** Whether a `--state` value is `s3://BUCKET/PREFIX` (no `..` segment). */
function isStateUri(uri: string): boolean {
  return /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9_.\/-]*)?$/.test(uri) &&
    !uri.split("/").slice(3).includes("..");
}

/** How the runner runs, whatever the pipeline. */
export const RUN_PARAMS = {
  cacheDir: textParam({
    flag: "cache-dir",
    metavar: "DIR",
    profile: "cacheDir",
    default: ".cache",
    group: "Where",
    help: "everything the tool keeps: cached assets, run records, locks; with --state, only this " +
      "machine's entry files and scratch",
  }),
  select: customParam({
    flag: "select",
    metavar: "SEL",
    repeatable: true,
    profile: "assets",
    schema: (zod) => zod.array(zod.string()),
    group: "What",
    shownDefault: "published_csv",
    help: "assets to run: name (with its upstreams), +name (same), name+ (also downstream); " +
      "a,b for several",
  }),
  force: switchParam({
    flag: "force",
    default: false,
    group: "What",
    help: "recompute the selected assets even when up to date",
  }),
  parallel: integerParam({
    flag: "parallel",
    metavar: "N",
    profile: "parallel",
    min: 1,
    max: 64,
    default: 2,
    group: "How",
    help: "dates at a time",
  }),
  failFast: switchParam({
    flag: "fail-fast",
    default: false,
    group: "How",
    help: "stop starting dates after the first failure",
  }),
  wait: switchParam({
    flag: "wait",
    default: false,
    group: "How",
    help: "wait for another process's lock on a date instead of failing (a range always does " +
      "free dates first, then waits for the held ones)",
  }),
  logFormat: customParam({
    flag: "log-format",
    metavar: "F",
    schema: (zod) => zod.enum(["text", "json"]),
    fromText(text: string, source: string): "text" | "json" {
      if (text !== "text" && text !== "json") {
        throw new UsageError(`${source} must be text or json, not ${JSON.stringify(text)}`);
      }
      return text;
    },
    default: "text" as "text" | "json",
    group: "How",
    help: "text or json, one event per line on stderr",
  }),
  quiet: switchParam({
    flag: "quiet",
    default: false,
    group: "How",
    help: "only errors on stderr",
  }),
  state: customParam({
    flag: "state",
    metavar: "URI",
    env: ["IMPRESSIONS_STATE"],
    profile: "state",
    schema: (zod) => zod.string().refine(isStateUri, "must be s3://BUCKET/PREFIX"),
    fromText(text: string, source: string): string {
      if (!isStateUri(text)) {
        throw new UsageError(`${source} must be s3://BUCKET/PREFIX, not ${JSON.stringify(text)}`);
      }
      return text;
    },
    shownDefault: "the cache dir",
    group: "Where",
    help: "where manifests, run records and date leases live: s3://BUCKET/PREFIX, shared by " +
      "many workers; the store must honour conditional PUTs (checked at start-up)",
  }),
  leaseTtlMs: customParam({
    flag: "lease-ttl",
    metavar: "T",
    schema: (zod) => zod.number().min(2).max(3600).transform((s) => s * 1000),
    fromText(text: string, source: string): number {
      const ms = durationMs(text);
      if (ms === undefined) {
        throw new UsageError(
          `${source} must look like 30s, 500ms or 2m, not ${JSON.stringify(text)}`,
        );
      }
      if (ms < 2000) {
        throw new UsageError(`${source} must be at least 2s, not ${JSON.stringify(text)}`);
      }
      return ms;
    },
    default: 60_000,
    shownDefault: "60s",
    group: "How",
    help: "how long a date's lease lasts unless renewed (shared state), e.g. 30s, 2m",
  }),
  report: textParam({
    flag: "report",
    metavar: "FILE",
    group: "How",
    help: "after the run, write the HTML report of its dates (see report --help)",
  }),
} satisfies ParamSchema;

/** Every param a run reads, by the name the code uses. */
export const ALL_PARAMS = {
  ...RUN_PARAMS,
  ...DEFINITIONS.params,
  ...DEFINITIONS.resourceParams,
};
