/**
 * What a command writes to and reads from, so tests can run commands in
 * process and capture their output.
 *
 * @module
 */

/** The command's view of its process. */
export interface CliIO {
  /** Writes one line to stdout. */
  stdout(line: string): void;
  /** Writes one line to stderr. */
  stderr(line: string): void;
  /** Writes raw text to stderr (progress bars). */
  stderrRaw(text: string): void;
  /** Terminal width, when stderr is a terminal. */
  columns?: number;
  /** Environment variables. */
  env: Record<string, string | undefined>;
  /** Whether stderr is a terminal (progress bars). */
  stderrIsTerminal: boolean;
}

const encoder = new TextEncoder();

/**
 * The environment variables the tool reads itself; the AWS SDK reads its
 * own (see the README's permissions section).
 */
export const ENV_VARS = [
  "IMPRESSIONS_BUCKET",
  "IMPRESSIONS_INITIALS",
  "AWS_ENDPOINT_URL_S3",
  "AWS_ENDPOINT_URL",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "PGPASSWORD",
  "DAGSTER_PIPES_CONTEXT",
  "DAGSTER_PIPES_MESSAGES",
  "IMPRESSIONS_STATE",
  "JOB_COMPLETION_INDEX",
  "AWS_BATCH_JOB_ARRAY_INDEX",
] as const;

function readEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of ENV_VARS) {
    try {
      env[name] = Deno.env.get(name);
    } catch {
      // not permitted: treated as unset
    }
  }
  return env;
}

/** The real process: Deno's stdout, stderr and environment. */
export function processIO(): CliIO {
  return {
    stdout: (line) => Deno.stdout.writeSync(encoder.encode(line + "\n")),
    stderr: (line) => Deno.stderr.writeSync(encoder.encode(line + "\n")),
    stderrRaw: (text) => Deno.stderr.writeSync(encoder.encode(text)),
    columns: Deno.stderr.isTerminal() ? Deno.consoleSize().columns : undefined,
    env: readEnv(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
  };
}
