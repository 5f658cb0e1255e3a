/**
 * The impressions pipeline's resources and params, and `defineAsset` typed
 * with them: every asset file of the pipeline defines itself through this.
 *
 * @module
 */

import {
  type AssetCheck as GenericCheck,
  type AssetContext as GenericContext,
  assetsOf,
} from "../materializer/asset.ts";
import type { Bucket } from "../resources/storage.ts";
import type { Warehouse } from "../resources/warehouse.ts";
import type { AssetParamValues } from "./params.ts";

/** Shared services a run hands to the pipeline's assets. */
export interface Resources {
  /** Where raw files are read and results published. */
  bucket: Bucket;
  /** The SQL warehouse, opened only when a selected asset `requires` it. */
  warehouse?: Warehouse;
}

/**
 * Run-wide settings the pipeline's assets read (never from env vars or
 * globals): the values of `ASSET_PARAMS` (`params.ts`) and two the runner sets.
 */
export type RunParams = AssetParamValues & {
  /** Concurrent object downloads. */
  downloadConcurrency: number;
  /** Objects larger than two parts of this size are fetched as parallel ranges. */
  downloadPartBytes?: number;
};

/** What an asset of this pipeline receives besides its upstream values. */
export type AssetContext<O = unknown, A = unknown> = GenericContext<Resources, RunParams, O, A>;

/** A check of an asset of this pipeline. */
export type AssetCheck<T> = GenericCheck<T, Resources, RunParams>;

/**
 * Defines an asset of this pipeline.
 *
 * @example
 * ```ts
 * import { defineAsset } from "./_define.ts";
 * import { jsonIO } from "../materializer/io.ts";
 * const initials = defineAsset({
 *   name: "initials",
 *   deps: {},
 *   codeVersion: "1",
 *   io: jsonIO<string>(),
 *   compute: (_, ctx) => Promise.resolve(ctx.params.initials),
 * });
 * initials.name; // "initials"
 * ```
 */
export const { defineAsset } = assetsOf<Resources, RunParams>();
