/**
 * A pipeline in one object: its assets, the params its assets read, the
 * params that say where its bytes live, and how to open its resources from
 * them. A runner (the CLI, a test, an orchestrator) derives its flags,
 * profiles and help from the two param schemas and calls
 * {@linkcode materialize} with what `openResources` and `assetParams` give.
 *
 * @module
 */

import type { AnyAsset } from "./asset.ts";
import type { Logger } from "./log.ts";
import type { ParamSchema, ParamValues } from "./params.ts";

/** What {@linkcode Definitions.openResources} is told besides the values. */
export interface OpenContext<AP extends ParamSchema> {
  /** The selected assets (open only what they `require`). */
  selection: readonly AnyAsset[];
  /** The assets' param values (e.g. retries for a storage client). */
  assetParams: ParamValues<AP>;
  /** The local state folder, for resources kept beside it by default. */
  stateDir: string;
  /** Environment variables (credentials are found by the resources' own chains). */
  env: Record<string, string | undefined>;
  /** Where resources log (retries). */
  log: Logger;
}

/** Opened resources and how to release them. */
export interface OpenedResources<R> {
  /** The resources assets receive. */
  resources: R;
  /** Releases them (connections, clients). */
  close(): Promise<void>;
}

/** A pipeline: `R` its resources, `P` what its assets read as `ctx.params`. */
export interface Definitions<R, P, AP extends ParamSchema, RP extends ParamSchema> {
  /** The pipeline's name. */
  readonly name: string;
  /** Every asset, in any order. */
  readonly assets: readonly AnyAsset[];
  /** Params the assets read. */
  readonly params: AP;
  /** Params that say where bytes live; used only to open resources. */
  readonly resourceParams: RP;
  /** The assets' `ctx.params` from the resolved values and how many partitions run at once. */
  assetParams(values: ParamValues<AP>, run: { concurrentPartitions: number }): P;
  /** Opens the resources a selection needs. */
  openResources(values: ParamValues<RP>, context: OpenContext<AP>): Promise<OpenedResources<R>>;
  /** Secret values among the resolved params (never printed or written). */
  secrets(values: ParamValues<RP>, env: Record<string, string | undefined>): string[];
}

/**
 * Defines a pipeline (an identity function that checks and types it).
 *
 * @example
 * ```ts
 * import { defineDefinitions } from "./definitions.ts";
 * import { defineAsset } from "./asset.ts";
 * import { jsonIO } from "./io.ts";
 * import { integerParam } from "./params.ts";
 * const answer = defineAsset({
 *   name: "answer",
 *   deps: {},
 *   codeVersion: "1",
 *   io: jsonIO<number>(),
 *   compute: () => Promise.resolve(42),
 * });
 * const definitions = defineDefinitions({
 *   name: "toy",
 *   assets: [answer],
 *   params: {
 *     base: integerParam({ flag: "base", min: 0, max: 9, default: 1, group: "How", help: "" }),
 *   },
 *   resourceParams: {},
 *   assetParams: (values) => ({ base: values.base }),
 *   openResources: () => Promise.resolve({ resources: {}, close: () => Promise.resolve() }),
 *   secrets: () => [],
 * });
 * definitions.assets.length; // 1
 * ```
 */
export function defineDefinitions<R, P, AP extends ParamSchema, RP extends ParamSchema>(
  definitions: Definitions<R, P, AP, RP>,
): Definitions<R, P, AP, RP> {
  const seen = {
    name: new Set<string>(),
    flag: new Set<string>(),
    "profile key": new Set<string>(),
  };
  for (const schema of [definitions.params, definitions.resourceParams]) {
    for (const [name, param] of Object.entries(schema)) {
      const keys = { name, flag: param.flag, "profile key": param.profile };
      for (const [kind, key] of Object.entries(keys) as [keyof typeof seen, string?][]) {
        if (key === undefined) continue;
        if (seen[kind].has(key)) {
          throw new Error(`${definitions.name}: ${kind} ${JSON.stringify(key)} is defined twice`);
        }
        seen[kind].add(key);
      }
    }
  }
  return definitions;
}
