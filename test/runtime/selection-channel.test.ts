// Transport selection on real sockets: a channel to several endpoints of one service picks the
// best one that answers, falls back, remembers failures, moves back to a preferred endpoint, and
// never re-sends a call that reached a server.
import test from "ava";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { join } from "node:path";
import { Code, createChannel } from "msf";
import { ENDPOINT_BACKOFF_FIRST_MS } from "../../runtime/client/endpoint-pool.js";
import {
  TestService,
  abstractName,
  request,
  rpcError,
  startTestServer,
  tempDir,
  waitFor,
  type Recorder,
} from "../helpers/runtime-fixtures.js";

const { echo, wait } = TestService.methods;

function recorder(): Recorder {
  return { aborts: new Map(), ran: [] };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A tcp port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

test("[unix (no server), tcp (server)]: the call is sent over tcp, and channel.endpoint says so", async (t) => {
  const dir = tempDir(t);
  const tcpCalls = recorder();
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"], {}, tcpCalls);
  const tcp = server.addresses[0]!;
  const unix = `unix:${join(dir, "absent.sock")}`;
  const channel = createChannel([unix, tcp], { timeoutMs: 5000 });
  t.teardown(() => channel.close());
  t.is(channel.endpoint, undefined, "nothing is connected before the first call");
  t.is(channel.target, `${unix},${tcp}`);
  t.is((await channel.unary(echo, request("first"))).flightsInfo, "first");
  t.is(channel.endpoint, tcp);
  t.is((await channel.unary(echo, request("second"))).flightsInfo, "second");
  t.deepEqual(tcpCalls.ran, ["first", "second"]);
});

test("both up: unix is chosen, whatever the order given (comma-separated string)", async (t) => {
  const dir = tempDir(t);
  const unixCalls = recorder();
  const tcpCalls = recorder();
  const unix = (await startTestServer(t, [`unix:${join(dir, "s.sock")}`], {}, unixCalls)).addresses[0]!;
  const tcp = (await startTestServer(t, ["tcp://127.0.0.1:0"], {}, tcpCalls)).addresses[0]!;
  const channel = createChannel(`${tcp}, ${unix}`, { timeoutMs: 5000 });
  t.teardown(() => channel.close());
  await channel.unary(echo, request("a"));
  t.is(channel.endpoint, unix);
  t.deepEqual(unixCalls.ran, ["a"]);
  t.deepEqual(tcpCalls.ran, []);
});

test("both up: transportPreference and selection 'ordered' change the choice", async (t) => {
  const dir = tempDir(t);
  const unixCalls = recorder();
  const tcpCalls = recorder();
  const unix = (await startTestServer(t, [`unix:${join(dir, "s.sock")}`], {}, unixCalls)).addresses[0]!;
  const tcp = (await startTestServer(t, ["tcp://127.0.0.1:0"], {}, tcpCalls)).addresses[0]!;
  const preferTcp = createChannel([unix, tcp], { transportPreference: ["tcp", "unix"], timeoutMs: 5000 });
  t.teardown(() => preferTcp.close());
  await preferTcp.unary(echo, request("preferred"));
  t.is(preferTcp.endpoint, tcp);
  const ordered = createChannel([tcp, unix], { selection: "ordered", timeoutMs: 5000 });
  t.teardown(() => ordered.close());
  await ordered.unary(echo, request("ordered"));
  t.is(ordered.endpoint, tcp);
  t.deepEqual(tcpCalls.ran, ["preferred", "ordered"]);
  t.deepEqual(unixCalls.ran, []);
});

test("the unix server starts later: after its backoff the channel moves to it, calls never fail", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "late.sock");
  const unixCalls = recorder();
  const tcpCalls = recorder();
  const tcp = (await startTestServer(t, ["tcp://127.0.0.1:0"], {}, tcpCalls)).addresses[0]!;
  const channel = createChannel([`unix:${path}`, tcp], { timeoutMs: 5000 });
  t.teardown(() => channel.close());
  const started = Date.now();
  await channel.unary(echo, request("before"));
  t.is(channel.endpoint, tcp);
  await startTestServer(t, [`unix:${path}`], {}, unixCalls);
  // Bounded: 80 calls, 50 ms apart (4 s, above the first backoff of 1 s + 20 % jitter).
  let movedAt: number | undefined;
  for (let i = 0; i < 80 && movedAt === undefined; i++) {
    await channel.unary(echo, request(`call-${i}`));
    if (channel.endpoint === `unix:${path}`) movedAt = Date.now();
    else await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (movedAt === undefined) return t.fail(`still on ${channel.endpoint} after 80 calls`);
  // The unix endpoint failed after `started`, so its backoff (at least 80 % of the first step) ended after this.
  t.true(movedAt - started >= ENDPOINT_BACKOFF_FIRST_MS * 0.8, `moved after ${movedAt - started} ms`);
  await channel.unary(echo, request("after"));
  t.true(unixCalls.ran.includes("after"), "the call after the move reached the unix server");
  t.false(tcpCalls.ran.includes("after"));
  t.is(new Set([...unixCalls.ran, ...tcpCalls.ran]).size, unixCalls.ran.length + tcpCalls.ran.length, "no call ran twice");
});

test("all down: UNAVAILABLE naming every endpoint in the order tried; every endpoint is tried again later", async (t) => {
  const dir = tempDir(t);
  const port = await closedPort();
  // No remote address here: outbound connections from a sandbox may be answered by a proxy.
  const local = `tcp://127.0.0.1:${port}`;
  const path = `unix:${join(dir, "none.sock")}`;
  const abstract = abstractName("down");
  const channel = createChannel([local, path, abstract], { timeoutMs: 10_000 });
  t.teardown(() => channel.close());
  const first = await rpcError(t, channel.unary(echo, request("x")));
  t.is(first.code, Code.UNAVAILABLE);
  const uris = [path, abstract, local];
  const escaped = uris.map(escapeRegExp);
  t.regex(first.message, new RegExp(`none of the 3 endpoints of target "${escaped[2]!},.*" could be reached: `));
  t.regex(first.message, new RegExp(escaped.join(".*")), "listed in the order tried: unix, then tcp");
  t.regex(first.message, /ENOENT/);
  t.regex(first.message, /ECONNREFUSED/);
  t.is(channel.endpoint, undefined);
  // Every endpoint is in backoff now; a later call still tries them all, and one that came up answers.
  const server = await startTestServer(t, [local]);
  t.is(server.addresses[0], local);
  let answered = false;
  for (let i = 0; i < 40 && !answered; i++) {
    try {
      await channel.unary(echo, request(`retry-${i}`));
      answered = true;
    } catch (error) {
      t.is((error as { code?: unknown }).code, Code.UNAVAILABLE);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  t.true(answered, "the local tcp server that came up was reached");
  t.is(channel.endpoint, local);
});

/**
 * A unix socket that forwards to `target` (tcp): the channel's first endpoint. Destroying its
 * sockets breaks the client's connection while the server stays up behind the second endpoint.
 */
async function unixProxy(path: string, port: number): Promise<{ server: NetServer; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const { connect } = await import("node:net");
  const server = createNetServer((client) => {
    const upstream = connect({ host: "127.0.0.1", port });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen({ path }, resolve));
  return { server, sockets };
}

test("a call in flight when its connection breaks fails UNAVAILABLE and is not re-sent; the next call falls back", async (t) => {
  const dir = tempDir(t);
  const calls = recorder();
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"], {}, calls);
  const tcp = server.addresses[0]!;
  const path = join(dir, "proxy.sock");
  const proxy = await unixProxy(path, Number(/:(\d+)$/.exec(tcp)![1]));
  t.teardown(() => {
    for (const socket of proxy.sockets) socket.destroy();
    proxy.server.close();
  });
  const channel = createChannel([tcp, `unix:${path}`], { timeoutMs: 10_000 });
  t.teardown(() => channel.close());
  await channel.unary(echo, request("warm-up"));
  t.is(channel.endpoint, `unix:${path}`, "the unix endpoint (the proxy) is preferred");
  const inFlight = channel.unary(wait, request("in-flight", { departureCity: "5000" }));
  await waitFor(() => calls.ran.includes("in-flight"), 5000, "the handler to start");
  // Break the connection and take the unix endpoint away: the server itself stays up over tcp.
  const proxyClosed = new Promise<void>((resolve) => proxy.server.close(() => resolve()));
  for (const socket of proxy.sockets) socket.destroy();
  await proxyClosed;
  const error = await rpcError(t, inFlight);
  t.is(error.code, Code.UNAVAILABLE);
  t.regex(error.message, new RegExp(`connection to ${escapeRegExp(`unix:${path}`)} lost`));
  t.is((await channel.unary(echo, request("next"))).flightsInfo, "next");
  t.is(channel.endpoint, tcp);
  // Give a wrongly re-sent call time to show up before counting.
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.is(calls.ran.filter((name) => name === "in-flight").length, 1, "the handler ran once");
  t.deepEqual(calls.ran, ["warm-up", "in-flight", "next"]);
});
