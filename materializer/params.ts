/**
 * Typed params: one schema, a record of {@linkcode Param}s, from which a
 * runner derives its command-line flags, the keys of a profile file and
 * their validation (with zod), the `--help` lines and the tests' defaults.
 * Adding a parameter is one field in a pipeline's schema.
 *
 * Values come, first found wins, from a flag, then the environment
 * variables named, then the profile, then the default. zod is loaded only
 * when a profile is read (a param's `schema` is a function of it), so a run
 * without a profile file starts without it.
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";
import type { z } from "zod";

/** The zod namespace, handed to schema builders: zod is loaded only when a profile is read. */
export type Zod = typeof z;

/** A value given on the command line, in the environment or in a profile is wrong. */
export class ParamError extends Error {
  /** Builds the error; the message names where the value came from and quotes it. */
  constructor(message: string) {
    super(message);
    this.name = "ParamError";
  }
}

/** One parameter: where it may come from, how it is checked, and its help. */
export interface Param<T> {
  /** One line for `--help`. */
  help: string;
  /** The `--help` section it is listed under. */
  group: string;
  /** Flag name without `--`; none: not a flag. */
  flag?: string;
  /** Placeholder of the flag's value in `--help` (`N`, `SIZE`); none for a switch. */
  metavar?: string;
  /** A switch: `--flag` alone means `true`. */
  switch?: boolean;
  /** A repeatable flag: every value, in order. */
  repeatable?: boolean;
  /** Environment variables read, in order, after the flag. */
  env?: readonly string[];
  /** Key in a profile; none: not in profiles. */
  profile?: string;
  /** Checks (and converts) a profile's JSON value; its messages say what is expected. */
  schema?: (zod: Zod) => z.ZodType<T>;
  /** Converts a flag's or variable's text; throws a {@linkcode ParamError} naming `source`. */
  fromText?(text: string, source: string): T;
  /** The value when none is given; none: the param is optional. */
  default?: T;
  /** The tests' value, when it differs from the default (e.g. fewer retries). */
  test?: T;
  /** Said after the help line, e.g. `default 1GiB`, when the default is not shown well. */
  shownDefault?: string;
}

/** A schema: params by the name the code reads them under. */
// deno-lint-ignore no-explicit-any
export type ParamSchema = Record<string, Param<any>>;

/** The values a schema yields: a param without a default may be `undefined`. */
export type ParamValues<S extends ParamSchema> = {
  [K in keyof S]: S[K] extends { default: infer T } ? T
    : S[K] extends Param<infer T> ? T | undefined
    : never;
};

/** Where {@linkcode resolveParams} finds values. */
export interface ParamSources {
  /** Parsed flags, by flag name. */
  flags: Record<string, string | boolean | string[] | undefined>;
  /** Environment variables. */
  env: Record<string, string | undefined>;
  /** The profile, already checked by {@linkcode profileSchema}, by profile key. */
  profile: Record<string, unknown>;
  /** Overrides of defaults (e.g. the sample bucket when none is given). */
  defaults?: Record<string, unknown>;
}

/**
 * The flags of a schema, for `node:util`'s `parseArgs`.
 *
 * @example
 * ```ts
 * import { paramFlags, textParam } from "./params.ts";
 * const flags = paramFlags({ initials: textParam({ flag: "initials", group: "", help: "" }) });
 * flags.initials.type; // "string"
 * ```
 */
export function paramFlags(schema: ParamSchema): ParseArgsOptionsConfig {
  const out: ParseArgsOptionsConfig = {};
  for (const param of Object.values(schema)) {
    if (param.flag === undefined) continue;
    out[param.flag] = param.switch
      ? { type: "boolean" }
      : param.repeatable
      ? { type: "string", multiple: true }
      : { type: "string" };
  }
  return out;
}

/**
 * The zod schema of one profile: every key optional, unknown keys refused.
 *
 * @example
 * ```ts
 * import { integerParam, profileSchema } from "./params.ts";
 * import { z } from "zod";
 * const schema = profileSchema(z, {
 *   retries: integerParam({ min: 0, max: 20, profile: "retries", group: "", help: "" }),
 * });
 * schema.safeParse({ retries: 3 }).success; // true
 * schema.safeParse({ retries: -1 }).success; // false
 * ```
 */
export function profileSchema(zod: Zod, schema: ParamSchema): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const param of Object.values(schema)) {
    if (param.profile !== undefined && param.schema) {
      shape[param.profile] = param.schema(zod).optional();
    }
  }
  return zod.object(shape).strict();
}

/**
 * Resolves every param of `schema`: the flag, then the environment, then
 * the profile, then the default. Throws a {@linkcode ParamError} naming the
 * source of a bad value.
 *
 * @example
 * ```ts
 * import { integerParam, resolveParams } from "./params.ts";
 * const schema = {
 *   retries: integerParam({
 *     min: 0, max: 20, flag: "retries", env: ["RETRIES"], default: 4, group: "", help: "",
 *   }),
 * };
 * resolveParams(schema, { flags: {}, env: { RETRIES: "2" }, profile: {} }).retries; // 2
 * ```
 */
export function resolveParams<S extends ParamSchema>(
  schema: S,
  sources: ParamSources,
): ParamValues<S> {
  const out: Record<string, unknown> = {};
  for (const [name, param] of Object.entries(schema)) {
    out[name] = resolveParam(param, sources, name);
  }
  return out as ParamValues<S>;
}

function resolveParam<T>(param: Param<T>, sources: ParamSources, name: string): unknown {
  const given = param.flag === undefined ? undefined : sources.flags[param.flag];
  if (given !== undefined) {
    if (param.switch) return given === true;
    if (Array.isArray(given)) return given;
    return fromText(param, given as string, `--${param.flag}`);
  }
  for (const variable of param.env ?? []) {
    const text = sources.env[variable];
    if (text !== undefined && text !== "") return fromText(param, text, variable);
  }
  if (param.profile !== undefined && sources.profile[param.profile] !== undefined) {
    return sources.profile[param.profile];
  }
  if (sources.defaults && name in sources.defaults) return sources.defaults[name];
  return param.default;
}

function fromText<T>(param: Param<T>, text: string, source: string): T | string {
  return param.fromText ? param.fromText(text, source) : text;
}

/**
 * Every param's default, or its test value where it has one: the values a
 * test starts from.
 *
 * @example
 * ```ts
 * import { integerParam, paramDefaults } from "./params.ts";
 * paramDefaults({
 *   retries: integerParam({ min: 0, max: 20, default: 4, test: 0, group: "", help: "" }),
 * }, { test: true }).retries; // 0
 * ```
 */
export function paramDefaults<S extends ParamSchema>(
  schema: S,
  options: { test?: boolean } = {},
): ParamValues<S> {
  const out: Record<string, unknown> = {};
  for (const [name, param] of Object.entries(schema)) {
    out[name] = options.test && param.test !== undefined ? param.test : param.default;
  }
  return out as ParamValues<S>;
}

/**
 * The `--help` lines of a schema's flags, by group in schema order.
 *
 * @example
 * ```ts
 * import { integerParam, paramsHelp } from "./params.ts";
 * paramsHelp({
 *   retries: integerParam({
 *     min: 0, max: 20, flag: "retries", metavar: "N", default: 4, group: "How",
 *     help: "retries of transient S3 errors",
 *   }),
 * });
 * // "How:\n  --retries N           retries of transient S3 errors (default 4)"
 * ```
 */
export function paramsHelp(schema: ParamSchema): string {
  const groups = new Map<string, string[]>();
  for (const param of Object.values(schema)) {
    if (param.flag === undefined) continue;
    const lines = groups.get(param.group) ?? [];
    groups.set(param.group, lines);
    const name = `--${param.flag}${param.metavar ? ` ${param.metavar}` : ""}`;
    const notes: string[] = [];
    if (param.env?.length) notes.push(`env ${param.env.join(", ")}`);
    const shown = param.shownDefault ??
      (param.default !== undefined && !param.switch ? String(param.default) : undefined);
    if (shown !== undefined) notes.push(`default ${shown}`);
    if (param.repeatable) notes.push("repeatable");
    const text = `${param.help}${notes.length ? ` (${notes.join("; ")})` : ""}`;
    lines.push(...wrap(`  ${name.padEnd(20)}  `, text));
  }
  return [...groups].map(([group, lines]) => `${group}:\n${lines.join("\n")}`).join("\n\n");
}

const WIDTH = 100;

function wrap(head: string, text: string): string[] {
  const indent = " ".repeat(24);
  const lines: string[] = [];
  let line = head.length > 24 ? `${head.trimEnd()}\n${indent}` : head.padEnd(24);
  let width = head.length > 24 ? indent.length : line.length;
  for (const word of text.split(" ")) {
    if (width + word.length > WIDTH && width > indent.length) {
      lines.push(line.trimEnd());
      line = indent;
      width = indent.length;
    }
    line += `${word} `;
    width += word.length + 1;
  }
  lines.push(line.trimEnd());
  return lines.join("\n").split("\n");
}

/** The fields every param builder takes. */
export type ParamOptions<T> = Omit<Param<T>, "schema" | "fromText" | "switch">;

/** A builder's result: a {@linkcode Param} whose default is known to be set when it was given. */
export type Built<T, O> = Param<T> & (O extends { default: T } ? { default: T } : unknown);

/**
 * A text param, optionally matching `pattern` (`rule` says how, in messages).
 *
 * @example
 * ```ts
 * import { textParam } from "./params.ts";
 * const initials = textParam({
 *   flag: "initials", pattern: /^[A-Z]{1,3}$/, rule: "must match [A-Z]{1,3}", group: "", help: "",
 * });
 * initials.fromText!("GF", "--initials"); // "GF"
 * ```
 */
export function textParam<O extends ParamOptions<string> & { pattern?: RegExp; rule?: string }>(
  options: O,
): Built<string, O> {
  const { pattern, rule = `must match ${pattern}`, ...rest } = options;
  const param: Param<string> = {
    ...rest,
    schema: (zod) => pattern ? zod.string().regex(pattern, rule) : zod.string().min(1),
    fromText(text, source) {
      if (text === "") throw new ParamError(`${source} must not be empty`);
      if (pattern && !pattern.test(text)) {
        throw new ParamError(`${source} ${JSON.stringify(text)} ${rule}`);
      }
      return text;
    },
  };
  return param as Built<string, O>;
}

/**
 * A whole number from `min` to `max`.
 *
 * @example
 * ```ts
 * import { integerParam } from "./params.ts";
 * const workers = integerParam({ flag: "workers", min: 0, max: 64, group: "", help: "" });
 * workers.fromText!("2", "--workers"); // 2
 * ```
 */
export function integerParam<O extends ParamOptions<number> & { min: number; max: number }>(
  options: O,
): Built<number, O> {
  const { min, max, ...rest } = options;
  const rule = `must be a whole number from ${min} to ${max}`;
  const param: Param<number> = {
    ...rest,
    schema: (zod) => zod.number().int(rule).min(min, rule).max(max, rule),
    fromText(text, source) {
      if (!/^\d+$/.test(text) || +text < min || +text > max) {
        throw new ParamError(`${source} ${rule}, not ${JSON.stringify(text)}`);
      }
      return +text;
    },
  };
  return param as Built<number, O>;
}

/**
 * An on/off switch (`--with-rows`).
 *
 * @example
 * ```ts
 * import { switchParam } from "./params.ts";
 * switchParam({ flag: "with-rows", default: false, group: "", help: "" }).switch; // true
 * ```
 */
export function switchParam<O extends ParamOptions<boolean>>(options: O): Built<boolean, O> {
  const param: Param<boolean> = { ...options, switch: true, schema: (zod) => zod.boolean() };
  return param as Built<boolean, O>;
}

/**
 * A param whose profile value is checked by `schema` and whose text (if it
 * has a flag or variable) is converted by `fromText`.
 *
 * @example
 * ```ts
 * import { customParam } from "./params.ts";
 * import { z } from "zod";
 * const ratio = customParam({
 *   schema: (zod) => zod.number().min(0).max(1),
 *   profile: "ratio",
 *   group: "",
 *   help: "",
 * });
 * ratio.schema!(z).safeParse(0.5).success; // true
 * ```
 */
export function customParam<
  // deno-lint-ignore no-explicit-any
  O extends ParamOptions<any> & {
    // deno-lint-ignore no-explicit-any
    schema: (zod: Zod) => z.ZodType<any>;
    // deno-lint-ignore no-explicit-any
    fromText?: (text: string, source: string) => any;
  },
>(options: O): Built<SchemaOutput<O>, O> {
  return options as Built<SchemaOutput<O>, O>;
}

/** The value type a param's `schema` yields. */
export type SchemaOutput<O> = O extends { schema: (zod: Zod) => z.ZodType<infer T> } ? T : never;
