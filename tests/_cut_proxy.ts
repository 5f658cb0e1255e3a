/**
 * A TCP proxy that a test can cut: while cut, every byte in either
 * direction is silently dropped (connections stay open, nothing is reset),
 * as when a network path fails; restored, bytes flow again.
 *
 * @module
 */

/** A running proxy. */
export interface CutProxy {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** Drops traffic from now on. */
  cut(): void;
  /** Lets traffic through again. */
  restore(): void;
  /** Closes the listener and every connection. */
  stop(): void;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length;) at += await conn.write(data.subarray(at));
}

/** Starts a proxy on 127.0.0.1 to `target` (`host:port`). */
export function startCutProxy(target: { hostname: string; port: number }): CutProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let cut = false;
  const pump = async (from: Deno.Conn, to: Deno.Conn) => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) break;
        if (!cut) await writeAll(to, buffer.subarray(0, n));
      }
    } catch {
      // closed
    }
    for (const c of [from, to]) {
      try {
        c.close();
      } catch {
        // already closed
      }
      open.delete(c);
    }
  };
  (async () => {
    try {
      for await (const client of listener) {
        open.add(client);
        Deno.connect(target).then((upstream) => {
          open.add(upstream);
          pump(client, upstream);
          pump(upstream, client);
        }, () => client.close());
      }
    } catch {
      // listener closed
    }
  })();
  return {
    endpoint: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    cut: () => void (cut = true),
    restore: () => void (cut = false),
    stop() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
      open.clear();
    },
  };
}
