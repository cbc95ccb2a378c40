import test from "ava";
import { once } from "node:events";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import {
  AuthFailureReason,
  AuthStepType,
  clientAuthGuard,
  decodeAuthMessage,
  serverAuthGuard,
  type AuthFailure,
  type ClientAuth,
  type ServerAuth,
} from "./helpers/imports.js";
import { aliceAuth, serverAuth } from "./helpers/fixtures.js";
import { FrameKind, readFrames, writeFrame } from "./helpers/frames.js";

/**
 * The guards over a real TCP loopback connection with the runtime's frame header: AUTH frames
 * first, everything else only after success; re-challenges interleaved with other traffic.
 */
interface Harness {
  server: Server;
  port: number;
  identities: string[];
  failures: AuthFailure[];
  pings: number;
  closed: Promise<void>[];
}

async function startServer(auth: ServerAuth): Promise<Harness> {
  const harness: Harness = { server: undefined as unknown as Server, port: 0, identities: [], failures: [], pings: 0, closed: [] };
  harness.server = createServer((socket) => {
    harness.closed.push(once(socket, "close").then(() => undefined));
    const guard = serverAuthGuard(
      auth,
      { peerKey: socket.remoteAddress!, peerAddress: `tcp://${socket.remoteAddress}:${socket.remotePort}` },
      {
        send: (body) => writeFrame(socket, FrameKind.AUTH, 0, body),
        authenticated: (success) => harness.identities.push(success.identity),
        failed: (failure) => {
          harness.failures.push(failure);
          socket.end();
        },
      },
    );
    readFrames(socket, (kind, seq, body) => {
      if (kind === FrameKind.AUTH) guard.receive(body);
      else if (guard.admit(kind) && kind === FrameKind.PING) {
        harness.pings++;
        writeFrame(socket, FrameKind.PONG, seq, body);
      }
    });
    socket.on("close", () => guard.close());
    socket.on("error", () => {});
    guard.start();
  });
  harness.server.listen(0, "127.0.0.1");
  await once(harness.server, "listening");
  harness.port = (harness.server.address() as AddressInfo).port;
  return harness;
}

async function stop(harness: Harness): Promise<void> {
  harness.server.close();
  await Promise.all(harness.closed);
}

interface ClientRun {
  socket: Socket;
  authenticated: Promise<string>;
  failure: Promise<AuthFailure>;
  received: string[];
  pongs: number;
}

function startClient(port: number, auth: ClientAuth): ClientRun {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  let resolveAuth!: (identity: string) => void;
  let resolveFailure!: (failure: AuthFailure) => void;
  const run: ClientRun = {
    socket,
    authenticated: new Promise((resolve) => (resolveAuth = resolve)),
    failure: new Promise((resolve) => (resolveFailure = resolve)),
    received: [],
    pongs: 0,
  };
  const guard = clientAuthGuard(auth, {
    send: (body) => writeFrame(socket, FrameKind.AUTH, 0, body),
    authenticated: (success) => resolveAuth(success.identity),
    failed: (failure) => {
      resolveFailure(failure);
      socket.end();
    },
  });
  readFrames(socket, (kind, _seq, body) => {
    if (kind === FrameKind.AUTH) {
      run.received.push(AuthStepType[decodeAuthMessage(body).step]!);
      guard.receive(body);
    } else if (guard.admit(kind) && kind === FrameKind.PONG) run.pongs++;
  });
  socket.on("close", () => guard.close());
  guard.start();
  return run;
}

test("over TCP: authenticate, then calls flow while the server re-challenges every 40 ms", async (t) => {
  const harness = await startServer(serverAuth({ rechallengeIntervalMs: 40, rechallengeTimeoutMs: 2000 }));
  const client = startClient(harness.port, aliceAuth());
  t.is(await client.authenticated, "flightd");
  let seq = 0;
  const pinger = setInterval(() => writeFrame(client.socket, FrameKind.PING, ++seq, Uint8Array.of(seq & 0xff)), 5);
  const deadline = Date.now() + 5000;
  while (client.received.filter((step) => step === "RECHALLENGE").length < 3 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  clearInterval(pinger);
  t.true(client.received.filter((step) => step === "RECHALLENGE").length >= 3);
  t.deepEqual(client.received.slice(0, 2), ["CHALLENGE", "SUCCESS"]);
  t.true(client.pongs > 0, "calls were answered in between");
  t.deepEqual(harness.identities, ["alice"]);
  t.deepEqual(harness.failures, []);
  client.socket.end();
  await stop(harness);
});

test("over TCP: a client that sends a request before authenticating gets FAILURE and is disconnected", async (t) => {
  const harness = await startServer(serverAuth());
  const socket = connect(harness.port, "127.0.0.1");
  const frames: { kind: FrameKind; body: Uint8Array }[] = [];
  readFrames(socket, (kind, _seq, body) => frames.push({ kind, body }));
  await once(socket, "connect");
  writeFrame(socket, FrameKind.REQUEST, 1, Uint8Array.of(1, 2, 3));
  await once(socket, "end");
  socket.destroy();
  t.deepEqual(
    frames.map((frame) => [frame.kind, decodeAuthMessage(frame.body).step]),
    [
      [FrameKind.AUTH, AuthStepType.CHALLENGE],
      [FrameKind.AUTH, AuthStepType.FAILURE],
    ],
  );
  t.is(harness.pings, 0);
  t.is(harness.failures[0]?.reason, AuthFailureReason.UNEXPECTED_FRAME);
  t.regex(harness.failures[0]!.logMessage, /peer tcp:\/\/127\.0\.0\.1:\d+: UNEXPECTED_FRAME: sent a frame of kind 1/);
  await stop(harness);
});

test("over TCP: a wrong key is refused; the client sees UNAUTHENTICATED and the server logs the reason", async (t) => {
  const harness = await startServer(serverAuth());
  const client = startClient(harness.port, aliceAuth({ key: "44".repeat(32) }));
  const failure = await client.failure;
  t.is(failure.reason, AuthFailureReason.REJECTED);
  t.is(failure.toRpcError().message, "[UNAUTHENTICATED] authentication failed");
  await once(client.socket, "close");
  t.is(harness.failures[0]?.reason, AuthFailureReason.WRONG_SECRET);
  t.deepEqual(harness.identities, []);
  await stop(harness);
});
