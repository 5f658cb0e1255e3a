/**
 * pipes/: bootstrap decoding (values encoded by Dagster's own Python
 * implementation), the context's schema, each message writer, and message
 * shapes against the protocol's required fields.
 */

import assert from "node:assert/strict";
import {
  decodeParam,
  encodeMessage,
  encodeParam,
  loadContext,
  metadataValue,
  openMessageWriter,
  openPipesSession,
  PipesContextError,
  pipesMessage,
  PipesReportError,
  PipesWriterError,
  readBootstrap,
} from "../pipes/mod.ts";
import { startTestS3 } from "./_s3_server.ts";
import { withTempDir } from "./_helpers.ts";
import { assertValidMessage, pipesContext } from "./_pipes.ts";

/** Encoded by `dagster_pipes.encode_param({"path": "/tmp/pipes/context.json"})`. */
const PYTHON_PATH_PARAM = "eJyrVipILMlQslJQ0i/JLdAvyCxILdZPzs8rSa0o0csqzs9TqgUA1dcMdA==";
/** Encoded by `dagster_pipes.encode_param({"stdio": "stderr"})`. */
const PYTHON_STDIO_PARAM = "eJyrViouScnMV7JSADFSi4qUagFBNAaS";

Deno.test("bootstrap values encoded by Dagster's Python implementation decode", async () => {
  assert.deepEqual(await decodeParam(PYTHON_PATH_PARAM), { path: "/tmp/pipes/context.json" });
  const bootstrap = await readBootstrap({
    DAGSTER_PIPES_CONTEXT: PYTHON_PATH_PARAM,
    DAGSTER_PIPES_MESSAGES: PYTHON_STDIO_PARAM,
  });
  assert.deepEqual(bootstrap, {
    context: { path: "/tmp/pipes/context.json" },
    messages: { stdio: "stderr" },
  });
  const value = { data: pipesContext(), "ünïcode": "✓" };
  assert.deepEqual(await decodeParam(await encodeParam(value)), value);
});

Deno.test("without the bootstrap variables there is no session", async () => {
  assert.equal(await readBootstrap({}), undefined);
  assert.equal(await openPipesSession({ env: { DAGSTER_PIPES_MESSAGES: "x" } }), undefined);
});

Deno.test("bad bootstrap values are one-line errors naming the variable", async () => {
  await assert.rejects(
    readBootstrap({ DAGSTER_PIPES_CONTEXT: "not base64!", DAGSTER_PIPES_MESSAGES: "x" }),
    (e) => e instanceof PipesContextError && /^DAGSTER_PIPES_CONTEXT is not base64/.test(e.message),
  );
  await assert.rejects(
    readBootstrap({ DAGSTER_PIPES_CONTEXT: btoa("plain"), DAGSTER_PIPES_MESSAGES: "x" }),
    (e) =>
      e instanceof PipesContextError &&
      e.message.startsWith("DAGSTER_PIPES_CONTEXT is not zlib-compressed"),
  );
  await assert.rejects(
    readBootstrap({ DAGSTER_PIPES_CONTEXT: PYTHON_PATH_PARAM }),
    /DAGSTER_PIPES_CONTEXT is set but DAGSTER_PIPES_MESSAGES is not/,
  );
  await assert.rejects(
    readBootstrap({
      DAGSTER_PIPES_CONTEXT: await encodeParam([1]),
      DAGSTER_PIPES_MESSAGES: PYTHON_STDIO_PARAM,
    }),
    /DAGSTER_PIPES_CONTEXT must hold a JSON object/,
  );
});

Deno.test("the context loads from a file or from data, checked against context.json", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/context.json`;
    await Deno.writeTextFile(path, JSON.stringify(pipesContext()));
    assert.deepEqual(await loadContext({ path }), pipesContext());
    assert.deepEqual(await loadContext({ data: pipesContext() }), pipesContext());
    const { run_id: _, ...noRunId } = pipesContext();
    await assert.rejects(loadContext({ data: noRunId }), /has no field "run_id"/);
    await assert.rejects(
      loadContext({ data: pipesContext({ retry_number: "0" as unknown as number }) }),
      /retry_number must be an integer, not "0"/,
    );
    await assert.rejects(
      loadContext({ data: pipesContext({ partition_key_range: { start: "a" } as never }) }),
      /partition_key_range must be \{start, end\} or null/,
    );
    await assert.rejects(loadContext({ path: `${dir}/missing.json` }), /cannot read the Pipes/);
    await assert.rejects(loadContext({ other: 1 }), /need "path" or "data", got keys \["other"\]/);
  });
});

Deno.test("metadata values are typed from their JSON value", () => {
  assert.deepEqual(metadataValue(315), { type: "int", raw_value: 315 });
  assert.deepEqual(metadataValue(0.5), { type: "float", raw_value: 0.5 });
  assert.deepEqual(metadataValue(true), { type: "bool", raw_value: true });
  assert.deepEqual(metadataValue("s3://b/k.csv"), { type: "url", raw_value: "s3://b/k.csv" });
  assert.deepEqual(metadataValue("9.48%"), { type: "text", raw_value: "9.48%" });
  assert.deepEqual(metadataValue(null), { type: "null", raw_value: null });
  assert.deepEqual(metadataValue(["a"]), { type: "json", raw_value: ["a"] });
});

Deno.test("a whole float is written as a float (Dagster rejects 15 for a float)", () => {
  const line = encodeMessage(pipesMessage("report_asset_materialization", {
    asset_key: "a",
    data_version: null,
    metadata: {
      ms: { type: "float", raw_value: 15 },
      half: { type: "float", raw_value: 0.5 },
      big: { type: "float", raw_value: 1e21 },
      rows: { type: "int", raw_value: 15 },
      note: { type: "text", raw_value: "15" },
    },
  }));
  assert.match(line, /"ms":\{"type":"float","raw_value":15\.0\}/);
  assert.match(line, /"half":\{"type":"float","raw_value":0\.5\}/);
  assert.match(line, /"big":\{"type":"float","raw_value":1e\+21\}/);
  assert.match(line, /"rows":\{"type":"int","raw_value":15\}/);
  assert.match(line, /"note":\{"type":"text","raw_value":"15"\}/);
  assert.equal(JSON.parse(line).params.metadata.ms.raw_value, 15);
});

async function session(messages: Record<string, unknown>, options = {}) {
  const env = {
    DAGSTER_PIPES_CONTEXT: await encodeParam({ data: pipesContext() }),
    DAGSTER_PIPES_MESSAGES: await encodeParam(messages),
  };
  const s = await openPipesSession({ env, ...options });
  assert.ok(s);
  return s;
}

async function reportAll(s: Awaited<ReturnType<typeof session>>) {
  await s.reportAssetMaterialization({
    assetKey: "raw_partition",
    dataVersion: "abc",
    metadata: { objects: metadataValue(4) },
  });
  await s.reportAssetCheck({
    assetKey: "raw_partition",
    checkName: "required_columns",
    passed: true,
    severity: "ERROR",
    metadata: { detail: metadataValue("4 headers") },
  });
  await s.log("done", "INFO");
  await s.close();
}

Deno.test("the file writer appends one valid message per line", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/messages.jsonl`;
    await reportAll(await session({ path }));
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
    const methods = lines.map((l) => assertValidMessage(l).method);
    assert.deepEqual(methods, [
      "opened",
      "report_asset_materialization",
      "report_asset_check",
      "log",
      "closed",
    ]);
    const materialization = JSON.parse(lines[1]).params;
    assert.deepEqual(materialization, {
      asset_key: "raw_partition",
      data_version: "abc",
      metadata: { objects: { type: "int", raw_value: 4 } },
    });
    assert.deepEqual(JSON.parse(lines[4]).params, {});
  });
});

Deno.test("the stdio writers write to their stream, at once or at close", async () => {
  for (const stream of ["stdout", "stderr"] as const) {
    const out: string[] = [];
    const err: string[] = [];
    const s = await session({ stdio: stream }, {
      stdout: (l: string) => out.push(l),
      stderr: (l: string) => err.push(l),
    });
    assert.equal(s.stream, stream);
    const [written, other] = stream === "stdout" ? [out, err] : [err, out];
    assert.equal(written.length, 1); // opened, at once
    await reportAll(s);
    assert.equal(written.length, 5);
    assert.equal(other.length, 0);
    written.forEach(assertValidMessage);
  }
  const out: string[] = [];
  const s = await session({ buffered_stdio: "stdout" }, { stdout: (l: string) => out.push(l) });
  await s.log("buffered");
  assert.equal(out.length, 0);
  await s.close();
  assert.deepEqual(out.map((l) => JSON.parse(l).method), ["opened", "log", "closed"]);
  assert.throws(() => openMessageWriter({ stdio: "stdin" }), PipesWriterError);
  assert.throws(
    () => openMessageWriter({ nowhere: true }),
    /need "path", "stdio", "buffered_stdio" or "bucket", got keys \["nowhere"\]/,
  );
});

Deno.test("the S3 writer uploads numbered chunks under the key prefix", async () => {
  const s3 = await startTestS3();
  try {
    await s3.createBucket("pipes");
    const s = await session({ bucket: "pipes", key_prefix: "run-1/abc" }, {
      s3: { endpoint: s3.endpoint },
    });
    await reportAll(s);
    assert.equal(await s3.text("pipes", "run-1/abc/2.json"), null);
    const chunk = await s3.text("pipes", "run-1/abc/1.json");
    assert.ok(chunk);
    const lines = chunk.split("\n");
    assert.deepEqual(lines.map((l) => assertValidMessage(l).method), [
      "opened",
      "report_asset_materialization",
      "report_asset_check",
      "log",
      "closed",
    ]);
  } finally {
    await s3.stop();
  }
});

Deno.test("the S3 writer uploads a chunk every interval, in order", async () => {
  const puts: [string, string, string][] = [];
  let release!: () => void;
  const firstPut = new Promise<void>((resolve) => release = resolve);
  const writer = openMessageWriter({ bucket: "b" }, {
    intervalMs: 1,
    putObject: (bucket, key, body) => {
      puts.push([bucket, key, body]);
      release();
      return Promise.resolve();
    },
  });
  await writer.write(pipesMessage("log", { message: "one", level: "INFO" }));
  // The writer's timer does not keep a process alive; this test's wait does.
  const keepAlive = setInterval(() => {}, 1000);
  await firstPut;
  clearInterval(keepAlive);
  await writer.write(pipesMessage("closed", {}));
  await writer.close();
  assert.deepEqual(puts.map(([b, k]) => [b, k]), [["b", "1.json"], ["b", "2.json"]]);
  assert.equal(JSON.parse(puts[1][2]).method, "closed");
});

Deno.test("a failed S3 upload is an error at close naming the bucket", async () => {
  const writer = openMessageWriter({ bucket: "b", key_prefix: "p" }, {
    putObject: () => Promise.reject(new Error("AccessDenied")),
  });
  await writer.write(pipesMessage("opened", { extras: {} }));
  await assert.rejects(
    writer.close(),
    (e) =>
      e instanceof PipesWriterError &&
      e.message === "cannot upload Pipes messages to s3://b/p: AccessDenied",
  );
});

Deno.test("the session refuses unknown keys, a second materialization, and reports after close", async () => {
  const out: string[] = [];
  const s = await session({ stdio: "stdout" }, { stdout: (l: string) => out.push(l) });
  await assert.rejects(
    s.reportAssetMaterialization({ assetKey: "nope" }),
    (e) => e instanceof PipesReportError && /"nope" is not one of/.test(e.message),
  );
  await s.reportAssetMaterialization({ assetKey: "published_csv" });
  await assert.rejects(s.reportAssetMaterialization({ assetKey: "published_csv" }), /already/);
  await s.close(new Error("boom"));
  await s.close(); // idempotent
  await assert.rejects(s.log("late"), /closed/);
  const closed = assertValidMessage(out.at(-1)!);
  assert.equal((closed.params as { exception: { message: string } }).exception.message, "boom");
  assert.equal(out.filter((l) => JSON.parse(l).method === "closed").length, 1);
});

Deno.test("scrub is applied to every string of every message", async () => {
  const out: string[] = [];
  const s = await session({ stdio: "stdout" }, {
    stdout: (l: string) => out.push(l),
    scrub: (t: string) => t.replaceAll("hunter2", "***"),
  });
  await s.reportAssetMaterialization({
    assetKey: "raw_partition",
    metadata: { note: metadataValue("pw hunter2"), list: metadataValue(["hunter2"]) },
  });
  await s.close(new Error("login hunter2 failed"));
  assert.ok(!out.join("\n").includes("hunter2"));
  assert.equal(out.join("\n").split("***").length - 1, 3);
});
