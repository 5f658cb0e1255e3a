/**
 * Profiles: `pipeline.config.json` (or `--config PATH`) holds named profiles
 * of settings. Secrets never go here: credentials stay with the AWS
 * credential chain.
 *
 * @module
 */

import { UsageError } from "./errors.ts";
import { loadPackage } from "../resources/npm_package.ts";
/** One profile's settings, by profile key, checked and converted. */
export type Profile = Record<string, unknown>;

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
  const { configSchema } = await loadPackage(() => import("./config_schema.ts"));
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
