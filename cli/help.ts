/**
 * `--help` texts, one per command.
 *
 * The flags of `materialize` and `plan` are listed from the params' schemas
 * (`run_params.ts`), so a new param appears here by itself.
 *
 * @module
 */

import { paramsHelp } from "../materializer/params.ts";
import { ALL_PARAMS } from "./run_params.ts";

const RUN_FLAGS_HELP = `
Dates (one of):
  --date D              one date: YYYY-MM-DD, today or yesterday (UTC)
  --from D --to D       every date in the inclusive range (a backfill)
  --index N|auto        with --from/--to: only the N-th date (0-based) of the range; auto reads
                        JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or AWS_BATCH_JOB_ARRAY_INDEX
                        (AWS Batch array job)
  --index N|auto        only the N-th date (0-based) of --from/--to; auto reads
                        JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or
                        AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job)

${paramsHelp(ALL_PARAMS)}

Config:
  --config PATH         config file with profiles (default pipeline.config.json if present); a
                        profile's keys are the params' (see the README)
  --profile NAME        profile to use (default "default")
  -h, --help            this help
`;

/** Help per command. */
export const HELP: Record<string, string> = {
  main: `impressions: ad-impression logs on S3 to hourly campaign counts, as an asset graph.

Usage: deno task <command> [flags]     (or: impressions <command> [flags])

Commands:
  materialize   run the assets for a date or a range of dates
  plan          say what materialize would do and why, without doing it
  graph         print the asset graph (text, --format mermaid or --format json)
  runs          list recent runs; runs show ID prints one
  leases        list the date leases of a shared state; leases release DATE frees a stuck one
  clean         remove cached dates (--date D or --older-than 30d)
  report        write a self-contained HTML report of a date range (graph, tables, charts)
  insights      top campaigns, busiest hours, daily totals and duplicate share from the warehouse

Run 'deno task <command> --help' for a command's flags.

Example:
  deno task materialize --date 2021-01-30
`,
  materialize: `Usage: deno task materialize --date YYYY-MM-DD [flags]

Runs published_csv and what it needs for each date (or the --select'ed assets), reusing
what is cached and up to date. Stdout lists the published URIs, one per line; stderr has one
line per asset. Exit 0 on success, 1 on a data or storage error, 2 on a usage error
(such as a flag other than --select given twice, or a negative count).

Under a Dagster Pipes launcher (DAGSTER_PIPES_CONTEXT and DAGSTER_PIPES_MESSAGES set), the
context supplies --date, --select and extras (bucket, initials, cache_dir, endpoint_url,
region) not given as flags, and each asset's materialization, checks and logs go to Dagster;
when the messages use stdout (or stderr), the tool's own output moves to the other stream.
${RUN_FLAGS_HELP}
Examples:
  deno task materialize --date 2021-01-30
  deno task materialize --date yesterday --bucket s3://my-impressions --initials GF
  deno task materialize --from 2021-01-01 --to 2021-01-31 --parallel 2
  deno task materialize --date 2021-01-30 --select hourly_campaign_counts+
`,
  plan: `Usage: deno task plan --date YYYY-MM-DD [flags]

For each date and asset, says whether a run would find it up to date or stale, and why:
the code version changed; input objects were added, changed or removed (listed as
'added: KEY', 'changed: KEY', 'removed: KEY'); an upstream is stale; or it was never
materialized. Lists the prefix but downloads nothing. Takes the same flags as materialize.
${RUN_FLAGS_HELP}
Example:
  deno task plan --date 2021-01-30
`,
  graph: `Usage: deno task graph [--format text|mermaid|json]

Prints the asset graph: each asset with its upstreams, code version and checks. JSON is what
the Dagster integration (integrations/dagster) reads: names, deps, code versions, descriptions,
checks with severities.

Example:
  deno task graph --format mermaid
`,
  runs: `Usage: deno task runs [--limit N] [--format text|json] [--cache-dir DIR | --state URI]
       deno task runs show ID [--cache-dir DIR | --state URI]

Lists recent runs (newest first; the last 20 as a table), or prints one run record as JSON.
--format json prints the run records as a JSON array (impressions-run/1), newest first, all
of them unless --limit is given. --state s3://BUCKET/PREFIX reads a shared state
(with --endpoint-url and --region as for materialize).

Example:
  deno task runs --limit 5
  deno task runs --state s3://team-bucket/impressions-state --format json
`,
  leases: `Usage: deno task leases --state URI
       deno task leases release DATE --state URI

Lists the date leases of a shared state (held, expired or released, with holder run, host,
pid and expiry by the store's clock), or force-releases one stuck lease, naming its holder.
Releasing a live worker's lease lets another take the date; the first worker then fails its
next write for that date instead of overwriting.

  --state URI           s3://BUCKET/PREFIX (env IMPRESSIONS_STATE)
  --endpoint-url URL    S3-compatible endpoint; --region R as for materialize

Example:
  deno task leases release 2021-01-30 --state s3://team-bucket/impressions-state
`,
  insights: `Usage: deno task insights --from D --to D [flags]

Reads the warehouse (loaded by materialize --select warehouse_hourly_counts) and prints, for
the inclusive date range: the top campaigns by impressions, the busiest UTC hours, and per day
the impressions loaded, the raw rows read, the duplicates dropped and their share of the valid
rows (from the cached deduped_impressions metadata or the run records).

  --from D --to D       the range (YYYY-MM-DD, today or yesterday); --date D for one day
  --warehouse W         postgres://USER@HOST:PORT/DB, sqlite:PATH or a file path
                        (default: the profile's warehouse, else CACHE_DIR/warehouse.sqlite)
  --cache-dir DIR       where the cache and run records are (default .cache)
  --state URI           read the manifests from a shared state, s3://BUCKET/PREFIX (env
                        IMPRESSIONS_STATE; with --endpoint-url and --region)
  --format F            text (default: aligned tables), csv (tables separated by a blank
                        line) or json
  --table T             only one table: campaigns, hours or days
  --limit N             campaigns and hours listed (default 10)
  --config PATH, --profile NAME   as for materialize
  -h, --help            this help

Examples:
  deno task insights --from 2021-01-01 --to 2021-01-31
  deno task insights --from 2021-01-01 --to 2021-01-31 --format csv --table days
  deno task insights --date 2021-01-30 --warehouse postgres://app@db:5432/impressions --format json
`,
  report: `Usage: deno task report --from D1 --to D2 [--date D] [--out FILE] [--cache-dir DIR]

Writes one self-contained HTML file (no network, no script) from the run records and the
cache manifests; nothing is recomputed. It shows the asset graph with each asset's state per
date, a table per date (rows read, duplicates removed, late and invalid rows, campaigns,
published URIs, data versions, durations, checks), an hourly heatmap of impressions for the
top 20 campaigns, daily totals and duplicate share, and the runs behind it. Dates never
materialized are shown as "no data". Stdout has the file's path.

  --from D --to D       the dates (YYYY-MM-DD, today or yesterday); --date D alone for one date
  --date D              the heatmap's date (default: the last date with counts)
  --out FILE            where to write (default report.html in the current folder)
  --cache-dir DIR       where the cache and run records are (default .cache)
  --state URI           read manifests and run records from a shared state, s3://BUCKET/PREFIX
                        (env IMPRESSIONS_STATE; with --endpoint-url and --region as for materialize)
  -h, --help            this help

Also: deno task materialize ... --report FILE writes it for the run's dates after the run.

Examples:
  deno task report --from 2021-01-29 --to 2021-01-31 --out report.html
  deno task report --from 2021-01-01 --to 2021-01-31 --date 2021-01-15
`,
  clean:
    `Usage: deno task clean (--date D | --older-than AGE) [--cache-dir DIR] [--state URI] [--dry-run]

Removes cached date folders: one date, or every date folder not modified within AGE
(units h and d, e.g. 30d or 12h). Never removes run records, locks or the warehouse, and
nothing outside the cache dir. With --state s3://BUCKET/PREFIX it also removes those dates'
remote state (a date more than AGE in the past; never one under a live lease) and, with
--older-than, run records and released or expired leases older than AGE.

Example:
  deno task clean --older-than 30d
`,
};
