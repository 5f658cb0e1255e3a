/**
 * `leases`: lists the date leases of a shared state, or force-releases a
 * stuck one (`leases release DATE`), naming its holder.
 *
 * @module
 */

import { parseFlags } from "./options.ts";
import { parseDate } from "./dates.ts";
import { EXIT_OK, UsageError } from "./errors.ts";
import type { CliIO } from "./io.ts";
import { formatTable } from "./table.ts";
import { sharedState, STATE_FLAGS, stateFromFlags } from "./state_option.ts";

/**
 * `leases [--state URI]` or `leases release DATE [--state URI]`; returns
 * the exit code.
 *
 * @example
 * ```ts
 * import { leasesCommand } from "./leases_command.ts";
 * import { processIO } from "./io.ts";
 * // await leasesCommand(["--state", "s3://team-bucket/state"], processIO());
 * ```
 */
export async function leasesCommand(args: string[], io: CliIO, now?: Date): Promise<number> {
  const release = args[0] === "release";
  if (release && (!args[1] || args[1].startsWith("-"))) {
    throw new UsageError("leases release needs a date, e.g. leases release 2021-01-30");
  }
  const flags = parseFlags(release ? args.slice(2) : args, STATE_FLAGS);
  const state = sharedState(await stateFromFlags(flags, io.env, { write: release }), "leases");
  try {
    if (release) {
      const date = parseDate(args[1], now);
      const holder = await state.releaseLease(date);
      io.stderr(
        holder
          ? `released the lease on ${date} held by run ${holder.runId}, process ${holder.pid} on ${holder.host} since ${holder.since}${
            holder.releasedAt ? " (it was already released)" : ""
          }`
          : `no lease on ${date}`,
      );
      return EXIT_OK;
    }
    const leases = await state.leases();
    io.stdout(formatTable(
      ["date", "state", "run", "host", "pid", "since", "expires"],
      leases.map((l) => [
        l.date,
        l.body.releasedAt ? "released" : l.free ? "expired" : "held",
        l.body.runId,
        l.body.host,
        String(l.body.pid),
        l.body.since,
        l.body.releasedAt ? "" : new Date(l.expiresAtMs).toISOString(),
      ]),
    ));
    return EXIT_OK;
  } finally {
    state.close?.();
  }
}
