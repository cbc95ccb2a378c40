// Hostile bytes on real sockets (unix and tcp). First at the transport: a listener whose
// connections record why they closed, fed generated broken streams (valid frames, then a frame
// with a wrong magic, version, kind or an oversize length, cut into random chunks): each
// connection is closed with the ProtocolError naming the exact byte offset, and the peer sees
// its socket closed. Then at the server: hostile raw sockets pour garbage into a real server
// while a well-behaved channel keeps calling it; every call is answered, every hostile
// connection is closed. Case counts: helpers/fuzz-runs.ts.
import test, { type ExecutionContext } from "ava";
import fc from "fast-check";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { createChannel } from "msf";
import { MAGIC, PROTOCOL_VERSION, ProtocolError, resolveAddress, writeU32, type Connection, type Listener } from "msf/internal";
import { TestService, request, startTestServer, tempDir, waitFor } from "../helpers/runtime-fixtures.js";
import { fcParameters, fuzzRuns } from "./helpers/fuzz-runs.js";
import { concat, cutsArb, encodeAll, headerArb, split, type GeneratedFrame } from "./helpers/frames.js";

type Kind = "unix" | "tcp";
const kinds: Kind[] = ["unix", "tcp"];
const MAX_BODY = 64 * 1024;
/** How long a hostile connection may stay open after its last byte before the case counts as failed. */
const POUR_TIMEOUT_MS = 3000;

function listenUri(t: ExecutionContext, kind: Kind, name: string): string {
  return kind === "unix" ? `unix:${join(tempDir(t), `${name}.sock`)}` : "tcp://127.0.0.1:0";
}

function netTarget(address: string): { path: string } | { host: string; port: number } {
  if (address.startsWith("unix:")) return { path: address.slice(5) };
  const match = /^tcp:\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(address)!;
  return { host: match[1]!, port: Number(match[2]) };
}

interface Closed {
  readonly error: Error | undefined;
  readonly frames: number;
}

/** A transport listener whose connections report how they closed (and how many frames they read first). */
async function recordingListener(t: ExecutionContext, uri: string): Promise<{ listener: Listener; closes: Closed[] }> {
  const { transport, endpoint } = resolveAddress(uri);
  const closes: Closed[] = [];
  const connections = new Set<Connection>();
  const listener = await transport.listen(endpoint, { maxBodyBytes: MAX_BODY, unixSocketMode: 0o600 }, (connection) => {
    connections.add(connection);
    let frames = 0;
    connection.start({
      onFrame: () => frames++,
      onClose: (error) => {
        connections.delete(connection);
        closes.push({ error, frames });
      },
    });
  });
  t.teardown(async () => {
    for (const connection of connections) connection.destroy();
    await listener.close();
  });
  return { listener, closes };
}

/**
 * Writes `chunks` one per event-loop turn, then waits for the server to close the socket.
 * Resolves true when it did, false when it had not after POUR_TIMEOUT_MS (the socket is then destroyed).
 */
async function pour(address: string, chunks: readonly Uint8Array[]): Promise<boolean> {
  const socket: Socket = connect(netTarget(address));
  socket.on("error", () => undefined);
  // Read (and drop) what the server sends (PONGs): an unread socket never sees the server's close.
  socket.resume();
  let closedByServer = true;
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  for (const chunk of chunks) {
    if (socket.destroyed) break;
    socket.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const timer = setTimeout(() => {
    closedByServer = false;
    socket.destroy();
  }, POUR_TIMEOUT_MS);
  await closed;
  clearTimeout(timer);
  return closedByServer;
}

/** A broken frame (wrong magic, version, kind, or a length over the limit) and the message and field offset it must be reported with. */
const brokenHeaderArb = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).filter((magic) => magic !== MAGIC).map((magic) => ({ field: 0, write: (h: Uint8Array) => ((h[0] = magic >>> 8), (h[1] = magic & 0xff)), message: /bad magic/ })),
  fc.integer({ min: 0, max: 255 }).filter((version) => version !== PROTOCOL_VERSION).map((version) => ({ field: 2, write: (h: Uint8Array) => (h[2] = version), message: /unsupported protocol version/ })),
  fc.integer({ min: 8, max: 255 }).map((kind) => ({ field: 3, write: (h: Uint8Array) => (h[3] = kind), message: /unknown frame kind/ })),
  fc.integer({ min: MAX_BODY + 1, max: 0xffffffff }).map((length) => ({ field: 20, write: (h: Uint8Array) => writeU32(h, 20, length), message: /exceeds the limit/ })),
);

const validPrefixArb = fc.array(fc.record({ header: headerArb, body: fc.uint8Array({ maxLength: 200 }) }), { maxLength: 3 });
const PING = { kind: 4, codec: 0, flags: 0, status: 0, seq: 1, method: 0, timeoutMs: 0 };

for (const kind of kinds) {
  test(`${kind}: a broken stream closes its connection with a ProtocolError at the exact offset`, async (t) => {
    const { listener, closes } = await recordingListener(t, listenUri(t, kind, "transport"));
    const runs = fuzzRuns(100, 10, 2000);
    await fc.assert(
      fc.asyncProperty(validPrefixArb, brokenHeaderArb, fc.uint8Array({ maxLength: 300 }), cutsArb, async (prefix: GeneratedFrame[], broken, trailing, cuts) => {
        const head = encodeAll(prefix);
        const bad = encodeAll([{ header: prefix[0]?.header ?? PING, body: new Uint8Array(0) }]);
        broken.write(bad);
        const seen = closes.length;
        if (!(await pour(listener.address, split(concat([head, bad, trailing]), cuts)))) return false;
        await waitFor(() => closes.length > seen, 5000, "the server side to close");
        const closed = closes[closes.length - 1]!;
        const error = closed.error;
        return (
          error instanceof ProtocolError &&
          error.offset === head.length + broken.field &&
          broken.message.test(error.message) &&
          closed.frames === prefix.length
        );
      }),
      fcParameters(runs),
    );
    t.log(`${runs} broken streams`);
    t.pass();
  });

  test(`${kind}: hostile sockets pour garbage into a real server; a well-behaved channel is answered throughout`, async (t) => {
    const server = await startTestServer(t, [listenUri(t, kind, "server")], { maxBodyBytes: MAX_BODY });
    const address = server.addresses[0]!;
    const channel = createChannel(address, { timeoutMs: 5000 });
    t.teardown(() => channel.close());
    const runs = fuzzRuns(100, 10, 2000);
    const garbageArb = fc.oneof(
      // At least a header's worth: fewer bytes are a frame not complete yet, which the server waits for.
      fc.uint8Array({ minLength: 24, maxLength: 600 }).filter((bytes) => bytes[0] !== 0x4d || bytes[1] !== 0x53),
      fc.tuple(validPrefixArb, brokenHeaderArb).map(([prefix, broken]) => {
        const bad = encodeAll([{ header: PING, body: new Uint8Array(0) }]);
        broken.write(bad);
        // PINGs first (a client may send them; they are answered), then the broken header.
        return concat([encodeAll(prefix.map((frame) => ({ ...frame, header: { ...frame.header, kind: 4 } }))), bad]);
      }),
    );
    let calls = 0;
    let answered = 0;
    let stop = false;
    // The bystander: one call after another for as long as the hostile peers keep coming.
    const bystander = (async () => {
      for (let i = 0; i < 100_000 && !stop; i++) {
        calls++;
        const reply = await channel.unary(TestService.methods.echo, request(`call ${i}`));
        if (reply.flightsInfo === `call ${i}`) answered++;
      }
    })();
    let hostile = 0;
    await fc.assert(
      fc.asyncProperty(garbageArb, cutsArb, async (garbage, cuts) => {
        hostile++;
        return pour(address, split(garbage, cuts));
      }),
      fcParameters(runs),
    );
    stop = true;
    await bystander;
    t.log(`${hostile} hostile connections closed; the channel made ${calls} calls, ${answered} answered`);
    t.is(answered, calls);
    t.true(calls > 0);
    // The server still takes new connections and raw requests after all that.
    const fresh = createChannel(address, { timeoutMs: 5000 });
    t.teardown(() => fresh.close());
    t.is((await fresh.unary(TestService.methods.echo, request("after"))).flightsInfo, "after");
  });
}
