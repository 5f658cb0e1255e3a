/**
 * The product ships no test hooks: no module reachable from `main.ts` or
 * the parser worker, and no task in `deno.json`, reads or names a variable
 * that exists only for the crash tests (they pause the run through
 * `tests/_pausing_main.ts` instead).
 */

import assert from "node:assert/strict";
import { REPO } from "./_helpers.ts";

const TEST_ONLY = /PAUSE_(AT|FILE)/;

async function shippedModules(entry: string): Promise<string[]> {
  const info = await new Deno.Command("deno", {
    args: ["info", "--json", `${REPO}/${entry}`],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(info.success, new TextDecoder().decode(info.stderr));
  const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    modules: { specifier: string; local?: string }[];
  };
  return graph.modules
    .filter((m) => m.specifier.startsWith(`file://${REPO}/`) && m.local)
    .map((m) => m.local as string);
}

Deno.test("no shipped module and no task names a test-only pause variable", async () => {
  const modules = [
    ...await shippedModules("main.ts"),
    ...await shippedModules("engine/scan_worker.ts"),
  ];
  assert.ok(modules.some((path) => path.endsWith("/cli/run_command.ts")), "graph not read");
  for (const path of modules) {
    assert.ok(!path.startsWith(`${REPO}/tests/`), `${path} is test code in the product`);
    assert.doesNotMatch(await Deno.readTextFile(path), TEST_ONLY, path);
  }
  assert.doesNotMatch(await Deno.readTextFile(`${REPO}/deno.json`), TEST_ONLY, "deno.json");
});
