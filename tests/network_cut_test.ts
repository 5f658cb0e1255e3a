/**
 * A network cut between one worker and the S3 endpoint, mid-lease: its
 * traffic is silently dropped, then restored. Another worker takes the date
 * over after the lease's TTL, nothing is lost, and the cut worker ends with
 * a clear error and writes nothing more for the date. Run twice: through a
 * TCP proxy the test cuts, and (as root, where network namespaces can be
 * made) with each worker on its own "host" (a network namespace with its own
 * hostname) and the endpoint on the host side of a veth pair, cut by taking
 * that veth down.
 */

import assert from "node:assert/strict";
import { REPO, taskPermissions, withTempDir } from "./_helpers.ts";
import { MOTO_MISSING, startMotoS3 } from "./_moto_server.ts";
import type { TestS3 } from "./_s3_server.ts";
import { startCutProxy } from "./_cut_proxy.ts";
import {
  days,
  resultKey,
  seedDays,
  startWorker,
  waitForFile,
  workerArgs,
} from "./_shared_state.ts";

const MAIN = `${REPO}/main.ts`;

/** Where each worker runs and how the cut worker's path is cut. */
interface Topology {
  /** Endpoint and command prefix of the worker that gets cut. */
  cutWorker: { endpoint: string; prefix: string[] };
  /** Endpoint and command prefix of the other worker. */
  otherWorker: { endpoint: string; prefix: string[] };
  cut(): Promise<void>;
  restore(): Promise<void>;
  /** The cut worker's host name, as the other sees it in the lease. */
  cutHostName?: string;
}

async function cutScenario(s3: TestS3, topology: Topology, first: string): Promise<void> {
  await s3.createBucket("data");
  await s3.createBucket("state");
  const dates = days(first, 2);
  await seedDays(s3, "data", dates);
  const spawn = (args: string[], prefix: string[], env: Record<string, string> = {}) =>
    startWorker(args, env, taskPermissions(), MAIN, prefix);
  await withTempDir(async (dir) => {
    const reference = await spawn(
      workerArgs({
        endpoint: s3.endpoint,
        dates,
        cacheDir: `${dir}/ref`,
        state: "s3://state/ref",
        initials: "RF",
      }),
      [],
    ).done;
    assert.equal(reference.code, 0, reference.stderr);

    const pause = `${dir}/paused`;
    const cutOff = spawn(
      workerArgs({
        endpoint: topology.cutWorker.endpoint,
        dates: [dates[0]],
        cacheDir: `${dir}/cut`,
        extra: ["--lease-ttl", "3s", "--timeout", "1s", "--retries", "3"],
      }),
      topology.cutWorker.prefix,
      { PAUSE_AT: "before-commit:deduped_impressions", PAUSE_FILE: pause },
    );
    if (!await waitForFile(pause, cutOff)) assert.fail((await cutOff.done).stderr);
    await topology.cut();
    await Deno.remove(pause); // it goes on into the cut
    const other = await spawn(
      workerArgs({
        endpoint: topology.otherWorker.endpoint,
        dates,
        cacheDir: `${dir}/other`,
        extra: ["--lease-ttl", "3s"],
      }),
      topology.otherWorker.prefix,
    ).done;
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stderr, new RegExp(`${dates[0]} +materialized +this run`));
    if (topology.cutHostName) {
      assert.match(other.stderr, new RegExp(`process \\d+ on ${topology.cutHostName} since`));
    }
    const manifest = `team/${dates[0]}/published_csv/manifest.json`;
    const state = await s3.text("state", manifest);
    await topology.restore();
    const cut = await cutOff.done;
    assert.equal(cut.code, 1, cut.stderr);
    assert.match(
      cut.stderr,
      new RegExp(`lost the lease on ${dates[0]}: no renewal confirmed within its 3 s TTL`),
    );
    // Nothing lost, nothing overwritten by the cut worker.
    for (const date of dates) {
      assert.equal(
        await s3.text("data", resultKey(date)),
        await s3.text("data", resultKey(date, "RF")),
      );
    }
    assert.equal(await s3.text("state", manifest), state);
  });
}

Deno.test({
  name: "network cut mid-lease (TCP proxy): another worker takes over, the cut one fails clearly",
  ignore: MOTO_MISSING,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s3 = await startMotoS3();
    const url = new URL(s3.endpoint);
    const proxy = startCutProxy({ hostname: url.hostname, port: Number(url.port) });
    try {
      await cutScenario(s3, {
        cutWorker: { endpoint: proxy.endpoint, prefix: [] },
        otherWorker: { endpoint: s3.endpoint, prefix: [] },
        cut: () => Promise.resolve(proxy.cut()),
        restore: () => Promise.resolve(proxy.restore()),
      }, "2021-07-01");
    } finally {
      proxy.stop();
      await s3.stop();
    }
  },
});

function run(command: string[]): { ok: boolean; stderr: string } {
  try {
    const out = new Deno.Command(command[0], {
      args: command.slice(1),
      stdout: "null",
      stderr: "piped",
    }).outputSync();
    return { ok: out.success, stderr: new TextDecoder().decode(out.stderr).trim() };
  } catch (error) {
    return { ok: false, stderr: (error as Error).message };
  }
}

/** Why network namespaces cannot be made here, or `""` when they can. */
function namespacesUnavailable(): string {
  const name = `imp-probe-${Deno.pid}`;
  const made = run(["ip", "netns", "add", name]);
  if (!made.ok) return `network namespaces cannot be made here (ip netns add: ${made.stderr})`;
  run(["ip", "netns", "del", name]);
  const unshare = run(["unshare", "--uts", "true"]);
  if (!unshare.ok) return `UTS namespaces cannot be made here (unshare: ${unshare.stderr})`;
  return "";
}

const NO_NETNS = MOTO_MISSING ? "moto is missing" : namespacesUnavailable();

/** A namespace `name` joined to the host by a veth pair on 10.231.N.0/30; returns its addresses. */
function makeHost(name: string, n: number): { host: string; peer: string; hostLink: string } {
  const hostLink = `vh-${n}-${Deno.pid % 10000}`;
  const peerLink = `vp-${n}-${Deno.pid % 10000}`;
  const host = `10.231.${n}.1`;
  const peer = `10.231.${n}.2`;
  for (
    const command of [
      ["ip", "netns", "add", name],
      ["ip", "link", "add", hostLink, "type", "veth", "peer", "name", peerLink],
      ["ip", "link", "set", peerLink, "netns", name],
      ["ip", "addr", "add", `${host}/30`, "dev", hostLink],
      ["ip", "link", "set", hostLink, "up"],
      ["ip", "netns", "exec", name, "ip", "addr", "add", `${peer}/30`, "dev", peerLink],
      ["ip", "netns", "exec", name, "ip", "link", "set", peerLink, "up"],
      ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
    ]
  ) {
    const result = run(command);
    if (!result.ok) throw new Error(`${command.join(" ")}: ${result.stderr}`);
  }
  return { host, peer, hostLink };
}

Deno.test({
  name: `network cut mid-lease (workers on separate network namespaces)${
    NO_NETNS ? `: skipped, ${NO_NETNS}` : ""
  }`,
  ignore: NO_NETNS !== "",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const names = [`imp-cut-${Deno.pid}`, `imp-other-${Deno.pid}`];
    try {
      const cutHost = makeHost(names[0], 1);
      const otherHost = makeHost(names[1], 2);
      const s3 = await startMotoS3({ host: "0.0.0.0" });
      const port = new URL(s3.endpoint).port;
      // Each worker is its own host: its namespace, its hostname, the endpoint across a veth.
      const on = (ns: string, hostname: string) => [
        "ip",
        "netns",
        "exec",
        ns,
        "unshare",
        "--uts",
        "sh",
        "-c",
        `hostname ${hostname} && exec "$@"`,
        "sh",
      ];
      try {
        await cutScenario(s3, {
          cutWorker: {
            endpoint: `http://${cutHost.host}:${port}`,
            prefix: on(names[0], "worker-a"),
          },
          otherWorker: {
            endpoint: `http://${otherHost.host}:${port}`,
            prefix: on(names[1], "worker-b"),
          },
          cut: () => Promise.resolve(void run(["ip", "link", "set", cutHost.hostLink, "down"])),
          restore: () => Promise.resolve(void run(["ip", "link", "set", cutHost.hostLink, "up"])),
          cutHostName: "worker-a",
        }, "2021-08-01");
      } finally {
        await s3.stop();
      }
    } finally {
      for (const name of names) run(["ip", "netns", "del", name]);
    }
  },
});
