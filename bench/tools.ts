/**
 * What the benchmark needs to know about the machine and the tools on it:
 * core count and versions, a `python3` that imports pandas, the bench's own
 * virtual environment with polars (and PySpark), `java`, the `aws` command,
 * and the permission flags of the `materialize` task.
 *
 * @module
 */

const decoder = new TextDecoder();

/** Runs a command and returns its stdout, or undefined when it fails or is missing. */
async function output(command: string, args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { AWS_PAGER: "" },
    }).output();
    if (!out.success) return undefined;
    // Old aws versions print their version on stderr.
    return (decoder.decode(out.stdout) || decoder.decode(out.stderr)).trim();
  } catch {
    return undefined;
  }
}

/** The machine and the versions of Deno and DuckDB. */
export interface MachineInfo {
  /** Cores (`nproc`). */
  nproc: number;
  /** CPU model name. */
  cpuModel: string;
  /** Memory in bytes. */
  memTotalBytes: number;
  /** Kernel release. */
  kernel: string;
  /** Deno version. */
  deno: string;
  /** DuckDB version, when it loads. */
  duckdb?: string;
}

/** Reads {@linkcode MachineInfo} off this machine. */
export async function machineInfo(): Promise<MachineInfo> {
  const nproc = +(await output("nproc", []) ?? navigator.hardwareConcurrency);
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  let duckdb: string | undefined;
  try {
    const pkg = new URL("../node_modules/@duckdb/node-api/package.json", import.meta.url);
    duckdb = JSON.parse(await Deno.readTextFile(pkg)).version;
  } catch {
    duckdb = undefined;
  }
  return {
    nproc,
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1].trim() ?? "unknown CPU",
    memTotalBytes: +(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0) * 1024,
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    duckdb,
  };
}

/**
 * The first of `python3` (on `PATH`) and Debian's `/usr/bin/python3` that
 * imports pandas, with the pandas version.
 */
export async function findPandasPython(): Promise<
  { command: string; pandas: string } | undefined
> {
  for (const command of ["python3", "/usr/bin/python3"]) {
    const version = await output(command, ["-c", "import pandas; print(pandas.__version__)"]);
    if (version) return { command, pandas: version };
  }
  return undefined;
}

/** What the bench's virtual environment holds. */
export interface BenchPython {
  /** Its interpreter. */
  command: string;
  /** polars version, when it imports. */
  polars?: string;
  /** PySpark version, when asked for and it imports. */
  pyspark?: string;
  /** Why a peer is missing: what failed while making the environment. */
  problems: string[];
}

/** Runs a command with its output on the bench's stderr; true when it succeeds. */
async function step(command: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * Makes sure the bench's own virtual environment `venv` exists and holds
 * the pinned PyPI packages of `requirements` (polars; PySpark only when
 * asked for), creating it with `python3 -m venv` and installing with its
 * `pip` when needed (a quick no-op when they already are). Never touches
 * the system's Python. Returns the versions that import, and what failed.
 *
 * @example
 * ```ts
 * import { ensureBenchPython } from "./tools.ts";
 * const py = await ensureBenchPython({
 *   venv: ".tools/bench-py",
 *   requirements: ["bench/requirements.txt"],
 * });
 * // py.polars is "2.1.0" when PyPI was reachable
 * ```
 */
export async function ensureBenchPython(options: {
  venv: string;
  requirements: string[];
  withPyspark?: boolean;
}): Promise<BenchPython> {
  const command = `${options.venv}/bin/python`;
  const problems: string[] = [];
  const exists = await Deno.stat(command).then(() => true, () => false);
  if (!exists && !(await step("python3", ["-m", "venv", options.venv]))) {
    return { command, problems: [`python3 -m venv ${options.venv} failed`] };
  }
  const files = options.requirements.flatMap((file) => ["-r", file]);
  if (
    !(await step(command, [
      "-m",
      "pip",
      "install",
      "-q",
      "--disable-pip-version-check",
      // Offline, fail fast and run with what is installed.
      "--retries",
      "1",
      "--timeout",
      "15",
      ...files,
    ]))
  ) {
    problems.push(`pip install ${files.join(" ")} into ${options.venv} failed`);
  }
  const version = (module: string) =>
    output(command, ["-c", `import ${module}; print(${module}.__version__)`]);
  return {
    command,
    polars: await version("polars"),
    pyspark: options.withPyspark ? await version("pyspark") : undefined,
    problems,
  };
}

/**
 * The `java` on `PATH` and its major version (`java -version` prints on
 * stderr), or undefined when there is none.
 */
export async function findJava(): Promise<{ version: string; major: number } | undefined> {
  try {
    const out = await new Deno.Command("java", {
      args: ["-version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = decoder.decode(out.stderr) + decoder.decode(out.stdout);
    const match = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(text);
    if (!out.success || match === null) return undefined;
    // "1.8.0_392" is Java 8; "17.0.15" is Java 17.
    const major = match[1] === "1" ? +(match[2] ?? 0) : +match[1];
    return { version: match[0].slice(9, -1), major };
  } catch {
    return undefined;
  }
}

/**
 * The `aws` command: Debian's `/usr/bin/aws` (package `awscli`) when
 * installed, else the first `aws` on `PATH`, with its version line.
 */
export async function findAws(): Promise<{ command: string; version: string } | undefined> {
  for (const command of ["/usr/bin/aws", "aws"]) {
    const version = await output(command, ["--version"]);
    if (version) return { command, version: version.split(" ")[0] };
  }
  return undefined;
}
