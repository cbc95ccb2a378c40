import test from "ava";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { Code, RpcError, createChannel, createServer } from "msf";
import { FrameFlags, FrameKind, FrameParser, HEADER_BYTES, encodeFrame, writeU32 } from "msf/internal";
import { QueryFlightRequest, QueryFlightResponse } from "../helpers/flight-messages.js";
import { spawnScript } from "../helpers/child.js";
import { rawPeer, requestFrame } from "../helpers/raw-peer.js";
import {
  TestService,
  request,
  rpcError,
  startTestServer,
  tempDir,
  testHandlers,
  waitFor,
  type Recorder,
} from "../helpers/runtime-fixtures.js";

const echo = TestService.methods.echo;
const wait = TestService.methods.wait;

test("no socket file: UNAVAILABLE naming the target", async (t) => {
  const target = `unix:${join(tempDir(t), "nobody.sock")}`;
  const channel = createChannel(target, { timeoutMs: 2000 });
  t.teardown(() => channel.close());
  const error = await rpcError(t, channel.unary(echo, request("x")));
  t.is(error.code, Code.UNAVAILABLE);
  t.true(error.message.includes(target));
  t.regex(error.message, /ENOENT/);
  // The next call tries again (after a short backoff) and fails the same way: no busy loop, no hang.
  const again = await rpcError(t, channel.unary(echo, request("y")));
  t.is(again.code, Code.UNAVAILABLE);
});

test("refused tcp connection: UNAVAILABLE naming the target", async (t) => {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const target = `tcp://127.0.0.1:${port}`;
  const channel = createChannel(target);
  t.teardown(() => channel.close());
  const error = await rpcError(t, channel.unary(echo, request("x")));
  t.is(error.code, Code.UNAVAILABLE);
  t.true(error.message.includes(target));
  t.regex(error.message, /ECONNREFUSED/);
});

test("an oversize frame closes only its own connection", async (t) => {
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"], { maxBodyBytes: 1024 });
  const channel = createChannel(server.addresses[0]!, { timeoutMs: 5000 });
  t.teardown(() => channel.close());
  t.is((await channel.unary(echo, request("before"))).flightsInfo, "before");
  const peer = await rawPeer(server.addresses[0]!);
  t.teardown(() => peer.destroy());
  const header = requestFrame(1, echo.id, new Uint8Array(0)).subarray(0, HEADER_BYTES).slice();
  writeU32(header, 20, 2000);
  peer.write(header);
  await peer.closed;
  t.is(peer.frames.length, 0);
  t.is((await channel.unary(echo, request("after"))).flightsInfo, "after");
});

test("garbage and a wrong version close only their own connections", async (t) => {
  const server = await startTestServer(t, [`unix:${join(tempDir(t), "g.sock")}`]);
  const channel = createChannel(server.addresses[0]!, { timeoutMs: 5000 });
  t.teardown(() => channel.close());
  const garbage = await rawPeer(server.addresses[0]!);
  garbage.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  const version = await rawPeer(server.addresses[0]!);
  const frame = requestFrame(1, echo.id, QueryFlightRequest.encode(request("x")).finish());
  frame[2] = 2;
  version.write(frame);
  await Promise.all([garbage.closed, version.closed]);
  t.is((await channel.unary(echo, request("still"))).flightsInfo, "still");
});

test("a client that sends a reply frame is cut off; PING is answered with PONG", async (t) => {
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"]);
  const pinger = await rawPeer(server.addresses[0]!);
  t.teardown(() => pinger.destroy());
  const ping = { kind: FrameKind.PING, codec: 0, flags: 0, status: 0, seq: 77, method: 0, timeoutMs: 0 };
  pinger.write(encodeFrame(ping, new Uint8Array([1, 2, 3])));
  const pong = await pinger.reply(77);
  t.is(pong.header.kind, FrameKind.PONG);
  t.deepEqual([...pong.body], [1, 2, 3]);
  const rude = await rawPeer(server.addresses[0]!);
  rude.write(encodeFrame({ ...ping, kind: FrameKind.RESPONSE }, new Uint8Array(0)));
  await rude.closed;
  t.pass();
});

test("unix socket file: mode 0600 by default (configurable), removed on close", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "mode.sock");
  const server = createServer({ listen: [`unix:${path}`] });
  server.addService(TestService, testHandlers());
  await server.start();
  t.is(statSync(path).mode & 0o777, 0o600);
  await server.close();
  t.false(existsSync(path));
  const shared = createServer({ listen: [`unix:${path}`], unixSocketMode: 0o660 });
  shared.addService(TestService, testHandlers());
  await shared.start();
  t.is(statSync(path).mode & 0o777, 0o660);
  await shared.close();
});

test("a stale socket file is replaced; a live server or a regular file is never displaced", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "stale.sock");
  // A process that dies without closing its listener leaves its socket file behind.
  const dead = spawnScript(t, "test/helpers/child-server-main.ts", [`unix:${path}`]);
  await dead.line(/^ready$/);
  await dead.kill();
  t.true(statSync(path).isSocket());
  const server = await startTestServer(t, [`unix:${path}`]);
  const channel = createChannel(server.addresses[0]!, { timeoutMs: 5000 });
  t.teardown(() => channel.close());
  t.is((await channel.unary(echo, request("fresh"))).flightsInfo, "fresh");
  const second = createServer({ listen: [`unix:${path}`] });
  const live = await t.throwsAsync(second.start(), { instanceOf: RpcError });
  t.is(live?.code, Code.UNAVAILABLE);
  t.regex(live!.message, /another server is listening there/);
  t.is((await channel.unary(echo, request("still"))).flightsInfo, "still");
  const file = join(dir, "file.txt");
  writeFileSync(file, "keep me");
  const onFile = createServer({ listen: [`unix:${file}`] });
  const notSocket = await t.throwsAsync(onFile.start(), { instanceOf: RpcError });
  t.regex(notSocket!.message, /exists and is not a socket/);
  t.true(existsSync(file));
});

test("start() binds all or nothing", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "first.sock");
  const blocker = await startTestServer(t, [`unix:${join(dir, "taken.sock")}`]);
  const server = createServer({ listen: [`unix:${path}`, blocker.addresses[0]!] });
  await t.throwsAsync(server.start(), { instanceOf: RpcError, message: /another server is listening there/ });
  t.false(existsSync(path));
});

test("the same channel reconnects after its server process restarts", async (t) => {
  const dir = tempDir(t);
  const target = `unix:${join(dir, "restart.sock")}`;
  const first = spawnScript(t, "test/helpers/child-server-main.ts", [target]);
  await first.line(/^ready$/);
  const channel = createChannel(target, { timeoutMs: 5000 });
  t.teardown(() => channel.close());
  const before = await channel.unary(echo, request("before"));
  t.is(before.errmsg, String(first.process.pid));
  // A call in flight when the server dies fails UNAVAILABLE (it was written, so it is not retried).
  const inFlight = channel.unary(wait, request("dies", { departureCity: "10000" }));
  await new Promise((resolve) => setTimeout(resolve, 50));
  await first.kill();
  const lost = await rpcError(t, inFlight);
  t.is(lost.code, Code.UNAVAILABLE);
  t.regex(lost.message, /connection to unix:.*restart\.sock lost/);
  const second = spawnScript(t, "test/helpers/child-server-main.ts", [target]);
  await second.line(/^ready$/);
  const after = await channel.unary(echo, request("after"));
  t.is(after.flightsInfo, "after");
  t.is(after.errmsg, String(second.process.pid));
});

test("calls made while the server is down fail UNAVAILABLE; the first call after it is back succeeds", async (t) => {
  const target = `tcp://127.0.0.1:${await freePort()}`;
  const channel = createChannel(target, { timeoutMs: 5000, connectTimeoutMs: 1000 });
  t.teardown(() => channel.close());
  for (let i = 0; i < 3; i++) t.is((await rpcError(t, channel.unary(echo, request("down")))).code, Code.UNAVAILABLE);
  const server = await startTestServer(t, [target]);
  t.is(server.addresses[0], target);
  // At most one backoff step (capped at 1 s) away.
  t.is((await channel.unary(echo, request("up"))).flightsInfo, "up");
});

test("graceful close lets an in-flight call finish and refuses new connections", async (t) => {
  const seen: Recorder = { aborts: new Map(), ran: [] };
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"], {}, seen);
  const address = server.addresses[0]!;
  const channel = createChannel(address, { timeoutMs: 5000 });
  t.teardown(() => channel.close());
  const inFlight = channel.unary(wait, request("drain", { departureCity: "300" }));
  await waitFor(() => seen.ran.includes("drain"), 2000, "the handler to start");
  const started = Date.now();
  const closed = server.close({ graceMs: 5000 });
  t.is((await inFlight).flightsInfo, "waited drain");
  await closed;
  t.true(Date.now() - started < 4000);
  t.false(seen.aborts.has("drain"));
  const refused = await rpcError(t, channel.unary(echo, request("late")));
  t.is(refused.code, Code.UNAVAILABLE);
});

test("after the grace period, handlers still running see their signal aborted", async (t) => {
  const seen: Recorder = { aborts: new Map(), ran: [] };
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"], {}, seen);
  const channel = createChannel(server.addresses[0]!, { timeoutMs: 5000 });
  t.teardown(() => channel.close());
  const inFlight = channel.unary(wait, request("stuck", { departureCity: "10000" }));
  await waitFor(() => seen.ran.includes("stuck"), 2000, "the handler to start");
  const started = Date.now();
  await server.close({ graceMs: 100 });
  t.true(Date.now() - started >= 95);
  t.is((seen.aborts.get("stuck") as RpcError).code, Code.UNAVAILABLE);
  t.is((await rpcError(t, inFlight)).code, Code.UNAVAILABLE);
});

test("GOAWAY: in-flight calls finish on the old connection, new calls go to a new one", async (t) => {
  const path = join(tempDir(t), "goaway.sock");
  const oldSeen: Recorder = { aborts: new Map(), ran: [] };
  const oldServer = createServer({ listen: [`unix:${path}`] });
  oldServer.addService(TestService, testHandlers(oldSeen));
  await oldServer.start();
  const channel = createChannel(`unix:${path}`, { timeoutMs: 5000 });
  t.teardown(() => channel.close());
  const inFlight = channel.unary(wait, request("old", { departureCity: "400" }));
  await waitFor(() => oldSeen.ran.includes("old"), 2000, "the handler to start");
  const oldClosed = oldServer.close({ graceMs: 5000 });
  // The old server no longer listens (its socket file is gone); a new one takes the address.
  await waitFor(() => !existsSync(path), 2000, "the old socket file to go");
  const newSeen: Recorder = { aborts: new Map(), ran: [] };
  await startTestServer(t, [`unix:${path}`], {}, newSeen);
  t.is((await channel.unary(echo, request("new"))).flightsInfo, "new");
  t.deepEqual(newSeen.ran, ["new"]);
  t.is((await inFlight).flightsInfo, "waited old");
  await oldClosed;
  t.false(oldSeen.ran.includes("new"));
});

test("a call the server refused unstarted after GOAWAY is sent again on a new connection", async (t) => {
  // A hand-written server: on its first connection it answers the first request with GOAWAY and
  // a REFUSED error; on the next connection it answers properly.
  const connections: number[] = [];
  const raw = createNetServer((socket) => {
    const index = connections.push(0) - 1;
    const parser = new FrameParser({
      onFrame(header, body) {
        if (header.kind !== FrameKind.REQUEST) return;
        connections[index]!++;
        const reply = { kind: FrameKind.RESPONSE, codec: header.codec, flags: 0, status: 0, seq: header.seq, method: header.method, timeoutMs: 0 };
        if (index === 0) {
          const goAway = encodeFrame({ ...reply, kind: FrameKind.GOAWAY, seq: 0 }, new Uint8Array(0));
          const refused = encodeFrame({ ...reply, status: Code.UNAVAILABLE, flags: FrameFlags.REFUSED }, new TextEncoder().encode("draining"));
          socket.write(Buffer.concat([goAway, refused]));
          return;
        }
        const name = QueryFlightRequest.decode(body).name;
        socket.write(encodeFrame(reply, QueryFlightResponse.encode({ errcode: 0, errmsg: "", flightsInfo: `second:${name}` }).finish()));
      },
    });
    socket.on("data", (chunk: Buffer) => parser.push(chunk));
    socket.on("error", () => undefined);
  });
  const path = join(tempDir(t), "refused.sock");
  await new Promise<void>((resolve) => raw.listen(path, resolve));
  t.teardown(() => new Promise<void>((resolve) => raw.close(() => resolve())));
  const channel = createChannel(`unix:${path}`, { timeoutMs: 5000 });
  t.teardown(() => channel.close());
  t.is((await channel.unary(echo, request("x"))).flightsInfo, "second:x");
  t.deepEqual(connections, [1, 1]);
});

test("a server that is draining answers new requests UNAVAILABLE with the REFUSED flag", async (t) => {
  const seen: Recorder = { aborts: new Map(), ran: [] };
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"], {}, seen);
  const peer = await rawPeer(server.addresses[0]!);
  t.teardown(() => peer.destroy());
  const body = QueryFlightRequest.encode(request("hold", { departureCity: "300" })).finish();
  peer.write(requestFrame(1, wait.id, body));
  await waitFor(() => seen.ran.includes("hold"), 2000, "the handler to start");
  const closed = server.close({ graceMs: 5000 });
  await waitFor(() => peer.frames.some((frame) => frame.header.kind === FrameKind.GOAWAY), 2000, "GOAWAY");
  peer.write(requestFrame(2, echo.id, QueryFlightRequest.encode(request("late")).finish()));
  const refused = await peer.reply(2);
  t.is(refused.header.status, Code.UNAVAILABLE);
  t.is(refused.header.flags & FrameFlags.REFUSED, FrameFlags.REFUSED);
  t.is((await peer.reply(1)).header.status, Code.OK);
  t.false(seen.ran.includes("late"));
  peer.destroy();
  await closed;
});

test("channel.close() fails calls in flight UNAVAILABLE; later calls fail at once", async (t) => {
  const server = await startTestServer(t, ["tcp://127.0.0.1:0"]);
  const channel = createChannel(server.addresses[0]!);
  const inFlight = channel.unary(wait, request("x", { departureCity: "5000" }));
  await new Promise((resolve) => setTimeout(resolve, 30));
  await channel.close();
  const error = await rpcError(t, inFlight);
  t.is(error.code, Code.UNAVAILABLE);
  t.regex(error.message, /closed/);
  t.is((await rpcError(t, channel.unary(echo, request("y")))).code, Code.UNAVAILABLE);
  await channel.close();
});

test("a process whose channel and server are closed exits by itself with no handles left", async (t) => {
  const child = spawnScript(t, "test/helpers/child-lifecycle-main.ts", [join(tempDir(t), "life.sock")]);
  const resources = JSON.parse((await child.line(/^resources (.*)$/))[1]!) as string[];
  t.deepEqual(
    resources.filter((name) => name !== "PipeWrap"), // stdout and stderr pipes to this test
    [],
  );
  t.is(await child.exit(10_000), 0);
});

test("an idle channel does not keep a process alive, closed or not", async (t) => {
  const server = await startTestServer(t, [`unix:${join(tempDir(t), "idle.sock")}`, "tcp://127.0.0.1:0"]);
  const runs = server.addresses.flatMap((address) => ["close", "forget"].map((mode) => [address, mode] as const));
  await Promise.all(
    runs.map(async ([address, mode]) => {
      const child = spawnScript(t, "test/helpers/child-client-main.ts", [address, mode]);
      await child.line(/^called$/);
      t.is(await child.exit(10_000), 0, `${address} ${mode}`);
    }),
  );
});

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
