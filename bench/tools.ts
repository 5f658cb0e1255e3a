/**
 * What the benchmark needs to know about the machine and the tools on it:
 * core count and versions, a `python3` that imports pandas, the `aws`
 * command, and the permission flags of the `materialize` task.
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
