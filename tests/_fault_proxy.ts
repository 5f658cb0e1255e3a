/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of the in-process S3
 * endpoint. It speaks raw HTTP/1.1 over TCP so it can misbehave the way real
 * networks do: answer 503 or 500, reset the connection mid-body, send fewer
 * bytes than its Content-Length, or stall past the client's timeout (before
 * answering, or halfway through the body).
 *
 * @module
 */

/** How to misbehave for one request. */
export type Fault =
  | { kind: "status"; status: 500 | 503; code: string }
  | { kind: "reset" }
  | { kind: "short" }
  | { kind: "stall"; ms: number }
  | { kind: "stall-body"; ms: number };

/** A request as the proxy saw it. */
export interface SeenRequest {
  /** HTTP method. */
  method: string;
  /** Path and query. */
  path: string;
}

/** Chooses a fault for a request, or `null` to forward it untouched. */
export type FaultPlan = (request: SeenRequest) => Fault | null;

/** A running proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** Faults injected so far. */
  readonly injected: number;
  /** Requests seen so far. */
  readonly requests: SeenRequest[];
  /** Replaces the plan. */
  setPlan(plan: FaultPlan): void;
  /** Stops listening. */
  close(): void;
}

const encoder = new TextEncoder();

async function readRequest(conn: Deno.Conn) {
  let buffer = new Uint8Array(0);
  const chunk = new Uint8Array(64 * 1024);
  let headEnd = -1;
  while (headEnd < 0) {
    const n = await conn.read(chunk);
    if (n === null) return null;
    const next = new Uint8Array(buffer.length + n);
    next.set(buffer);
    next.set(chunk.subarray(0, n), buffer.length);
    buffer = next;
    headEnd = new TextDecoder().decode(buffer).indexOf("\r\n\r\n");
  }
  const head = new TextDecoder().decode(buffer.subarray(0, headEnd));
  const [requestLine, ...headerLines] = head.split("\r\n");
  const [method, path] = requestLine.split(" ");
  const headers = new Headers();
  for (const line of headerLines) {
    const at = line.indexOf(":");
    headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  const length = Number(headers.get("content-length") ?? 0);
  let body = buffer.subarray(headEnd + 4);
  while (body.length < length) {
    const n = await conn.read(chunk);
    if (n === null) break;
    const next = new Uint8Array(body.length + n);
    next.set(body);
    next.set(chunk.subarray(0, n), body.length);
    body = next;
  }
  return { method, path, headers, body };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

function head(status: number, reason: string, headers: Headers): Uint8Array {
  const lines = [`HTTP/1.1 ${status} ${reason}`];
  headers.forEach((value, name) => lines.push(`${name}: ${value}`));
  return encoder.encode(lines.join("\r\n") + "\r\n\r\n");
}

/**
 * Starts a proxy that forwards to `upstream` unless `plan` says otherwise.
 *
 * @example
 * ```ts
 * import { startFaultProxy } from "./_fault_proxy.ts";
 * const proxy = startFaultProxy("http://127.0.0.1:4566", () => null);
 * proxy.close();
 * ```
 */
export function startFaultProxy(upstream: string, plan: FaultPlan): FaultProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let current = plan;
  let injected = 0;
  const requests: SeenRequest[] = [];
  const serve = async (conn: Deno.Conn) => {
    try {
      const request = await readRequest(conn);
      if (!request) return;
      const seen = { method: request.method, path: request.path };
      requests.push(seen);
      const fault = current(seen);
      if (fault) injected++;
      if (fault?.kind === "status") {
        const body = encoder.encode(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>injected</Message></Error>`,
        );
        const headers = new Headers({
          "content-type": "application/xml",
          "content-length": String(body.length),
          connection: "close",
        });
        await writeAll(conn, head(fault.status, "Injected", headers));
        await writeAll(conn, body);
        return;
      }
      if (fault?.kind === "stall") await new Promise((r) => setTimeout(r, fault.ms));
      const forwarded = new Headers(request.headers);
      forwarded.delete("connection");
      const response = await fetch(`${upstream}${request.path}`, {
        method: request.method,
        headers: forwarded,
        body: ["GET", "HEAD"].includes(request.method) ? undefined : request.body,
      });
      const body = new Uint8Array(await response.arrayBuffer());
      const headers = new Headers(response.headers);
      headers.set("connection", "close");
      headers.delete("transfer-encoding");
      if (request.method !== "HEAD") headers.set("content-length", String(body.length));
      await writeAll(conn, head(response.status, response.statusText || "OK", headers));
      if (fault?.kind === "stall-body") {
        // Half the body, a pause, then the rest.
        await writeAll(conn, body.subarray(0, Math.floor(body.length / 2)));
        await new Promise((r) => setTimeout(r, fault.ms));
        await writeAll(conn, body.subarray(Math.floor(body.length / 2)));
        return;
      }
      if (fault?.kind === "reset" || fault?.kind === "short") {
        // Half the body, then the connection ends: a reset or a short body.
        await writeAll(conn, body.subarray(0, Math.floor(body.length / 2)));
        return;
      }
      if (request.method !== "HEAD") await writeAll(conn, body);
    } catch {
      // the client went away
    } finally {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };
  (async () => {
    for await (const conn of listener) serve(conn);
  })().catch(() => {});
  const { port } = listener.addr as Deno.NetAddr;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get injected() {
      return injected;
    },
    requests,
    setPlan(next) {
      current = next;
    },
    close() {
      listener.close();
    },
  };
}

/** A plan that injects `fault` into the first `times` requests matching `match`. */
export function faultTimes(
  match: (r: SeenRequest) => boolean,
  fault: Fault,
  times: number,
): FaultPlan {
  let left = times;
  return (request) => {
    if (left > 0 && match(request)) {
      left--;
      return fault;
    }
    return null;
  };
}
