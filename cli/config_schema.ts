/**
 * The schema of `pipeline.config.json`, with zod. Loaded only when a config
 * file is read, so runs without one start faster.
 *
 * @module
 */

import { z } from "zod";

/** What an AWS region name looks like. */
export const REGION = /^[a-z0-9-]{2,32}$/;

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
  region: z.string().regex(REGION, "must look like eu-west-1").optional(),
  initials: initials.optional(),
  resultsPrefix: z.string().regex(
    /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/,
    "must be a relative key prefix without '..'",
  ).refine((p) => !p.split("/").includes(".."), "must not contain '..'").optional(),
  cacheDir: z.string().min(1).optional(),
  state: z.string().min(1).optional(),
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

/** The whole file: named profiles. */
export const configSchema = z.object({
  profiles: z.record(z.string(), profileSchema),
}).strict();
