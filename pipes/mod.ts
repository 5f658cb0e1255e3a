/**
 * Dagster Pipes for TypeScript: a process launched by a Pipes client (a
 * subprocess, a Kubernetes pod, an ECS task, a Lambda) reads its context
 * and reports materializations, asset checks and logs back to Dagster.
 * Knows nothing of the pipeline that uses it.
 *
 * @example
 * ```ts
 * import { metadataValue, openPipesSession } from "./mod.ts";
 * const session = await openPipesSession({ env: Deno.env.toObject() });
 * if (session) {
 *   await session.reportAssetMaterialization({
 *     assetKey: session.context.asset_keys?.[0] ?? "my_asset",
 *     dataVersion: "v1",
 *     metadata: { rows: metadataValue(315) },
 *   });
 *   await session.close();
 * }
 * ```
 *
 * @module
 */

export * from "./context.ts";
export * from "./messages.ts";
export * from "./writer.ts";
export * from "./reporter.ts";
