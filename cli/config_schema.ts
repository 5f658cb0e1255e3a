/**
 * The schema of `pipeline.config.json`, with zod, derived from the params of
 * a run (`run_params.ts`): a profile's keys are the params' profile keys.
 * Loaded only when a config file is read, so runs without one start faster.
 *
 * @module
 */

import { z } from "zod";
import { profileSchema } from "../materializer/params.ts";
import { ALL_PARAMS } from "./run_params.ts";

/** The whole file: named profiles. */
export const configSchema = z.object({
  profiles: z.record(z.string(), profileSchema(z, ALL_PARAMS)),
}).strict();
