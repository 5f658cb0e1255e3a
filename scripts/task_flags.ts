/**
 * The permission flags of a task in the repository's `deno.json`, the one
 * place that grants them: tests and the benchmark start the pipeline with the
 * same flags as `deno task materialize`, never a copy of them.
 *
 * @module
 */

/** A task that `deno.json` does not have, or that grants nothing. */
export class TaskFlagsError extends Error {
  /** Creates the error for `task` in `path`. */
  constructor(task: string, path: string) {
    super(`deno.json has no task ${JSON.stringify(task)} with permission flags (${path})`);
    this.name = "TaskFlagsError";
  }
}

const DENO_JSON = new URL("../deno.json", import.meta.url);

/**
 * The permission flags (`--allow-*`, `--deny-*`, `--no-prompt`) of a task
 * in `deno.json`, in their order.
 *
 * @example
 * ```ts
 * import { taskPermissionFlags } from "./task_flags.ts";
 * const flags = taskPermissionFlags("materialize");
 * const child = new Deno.Command("deno", { args: ["run", ...flags, "main.ts", "graph"] });
 * ```
 */
export function taskPermissionFlags(task: string, denoJson: URL = DENO_JSON): string[] {
  const config = JSON.parse(Deno.readTextFileSync(denoJson));
  const entry: unknown = config.tasks?.[task];
  const command = typeof entry === "string"
    ? entry
    : (entry as { command?: unknown } | undefined)?.command;
  const flags = typeof command === "string"
    ? command.split(/\s+/).filter((word) => /^--(allow|deny)-|^--no-prompt$/.test(word))
    : [];
  if (flags.length === 0) throw new TaskFlagsError(task, denoJson.pathname);
  return flags;
}
