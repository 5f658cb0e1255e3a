/**
 * Profiles: `pipeline.config.json` (or `--config PATH`) holds named profiles
 * of settings. Secrets never go here: credentials stay with the AWS
 * credential chain.
 *
 * @module
 */

import { z } from "zod";
import { UsageError } from "./errors.ts";

const thresholds = z.object({
  duplicate_share: z.number().min(0).max(1).optional(),
  late_rows: z.number().min(0).max(1).optional(),
  volume_drop: z.number().min(0).max(1).optional(),
}).strict();

const initials = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "must match [A-Za-z0-9_-]{1,32}");

/** One profile's settings; every key is optional. */
export const profileSchema = z.object({
  bucket: z.string().min(1).optional(),
  endpointUrl: z.url().optional(),
  region: z.string().regex(/^[a-z0-9-]{2,32}$/, "must look like eu-west-1").optional(),
  initials: initials.optional(),
  resultsPrefix: z.string().regex(
    /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/,
    "must be a relative key prefix without '..'",
  ).refine((p) => !p.split("/").includes(".."), "must not contain '..'").optional(),
  cacheDir: z.string().min(1).optional(),
  parallel: z.number().int().min(1).max(64).optional(),
  retries: z.number().int().min(0).max(20).optional(),
  timeoutSeconds: z.number().positive().max(3600).optional(),
  maxInvalidRows: z.number().int().min(0).optional(),
  memoryBudget: z.string().regex(/^\d+(\.\d+)?\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/i).optional(),
  thresholds: thresholds.optional(),
  assets: z.array(z.string()).optional(),
  warehouse: z.string().optional(),
}).strict();

/** A profile. */
export type Profile = z.infer<typeof profileSchema>;

const configSchema = z.object({
  profiles: z.record(z.string(), profileSchema),
}).strict();

/** The default config file name, looked up in the current folder. */
export const DEFAULT_CONFIG = "pipeline.config.json";

/**
 * Loads a profile. A missing default config file is an empty profile; a
 * missing explicit one, a bad file or an unknown profile is a usage error
 * naming the key.
 *
 * @example
 * ```ts
 * import { loadProfile } from "./config.ts";
 * const profile = await loadProfile({ path: undefined, name: "default" });
 * ```
 */
export async function loadProfile(
  options: { path: string | undefined; name: string | undefined },
): Promise<Profile> {
  const path = options.path ?? DEFAULT_CONFIG;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound && options.path === undefined) {
      if (options.name !== undefined && options.name !== "default") {
        throw new UsageError(
          `profile ${JSON.stringify(options.name)} requested but ${path} does not exist`,
        );
      }
      return {};
    }
    throw new UsageError(`cannot read config ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.join(".") || "(top level)";
    throw new UsageError(`config ${path}: ${key}: ${issue.message}`);
  }
  const name = options.name ?? "default";
  const profile = parsed.data.profiles[name];
  if (profile === undefined) {
    if (options.name === undefined) return {};
    throw new UsageError(
      `config ${path} has no profile ${JSON.stringify(name)}; profiles: ${
        Object.keys(parsed.data.profiles).join(", ")
      }`,
    );
  }
  return profile;
}
