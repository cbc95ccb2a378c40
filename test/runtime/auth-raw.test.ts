// A server with auth against peers that control every byte (test/helpers/raw-peer.ts): frames
// before authentication, a replayed answer, a REANSWER that is wrong or missing. Over unix and tcp.
import test, { type ExecutionContext } from "ava";
import { join } from "node:path";
import { AuthFailureReason, Code, createChannel, type Channel } from "msf";
import { FrameKind, encodeFrame } from "msf/internal";
import {
  AuthStepType,
  clientHandshake,
  createClientAuth,
  encodeAuthMessage,
  type AuthMessage,
  type ClientHandshake,
} from "../../runtime/auth/index.js";
import {
  ALICE_KEY,
  AuthService,
  alice,
  authFrame,
  authMessage,
  authSteps,
  closedWithin,
  frameAt,
  serverCredentials,
  startAuthServer,
} from "../helpers/auth-fixtures.js";
import { QueryFlightRequest, QueryFlightResponse } from "../helpers/flight-messages.js";
import { rawPeer, requestFrame, type RawPeer } from "../helpers/raw-peer.js";
import { request, tempDir } from "../helpers/runtime-fixtures.js";

const { whoami } = AuthService.methods;
const aliceClient = createClientAuth({ name: "alice", key: ALICE_KEY });

type Kind = "unix" | "tcp";
const kinds: Kind[] = ["unix", "tcp"];

function listenAddress(t: ExecutionContext, kind: Kind): string {
  return kind === "unix" ? `unix:${join(tempDir(t), "raw.sock")}` : "tcp://127.0.0.1:0";
}

async function peer(t: ExecutionContext, address: string): Promise<RawPeer> {
  const connected = await rawPeer(address);
  t.teardown(() => connected.destroy());
  return connected;
}

/** Runs the handshake as alice on a raw peer; returns the RESPONSE body sent and the state machine. */
async function authenticate(raw: RawPeer): Promise<{ response: Uint8Array; handshake: ClientHandshake }> {
  const handshake = clientHandshake(aliceClient);
  const response = handshake.receive((await frameAt(raw, 1)).body).send!;
  raw.write(authFrame(response));
  const verdict = handshake.receive((await frameAt(raw, 2)).body);
  if (verdict.done === undefined) throw new Error(`alice was not authenticated: ${verdict}`);
  return { response, handshake };
}

function whoamiFrame(seq: number, name: string): Uint8Array {
  return requestFrame(seq, whoami.id, QueryFlightRequest.encode(request(name)).finish());
}

/** A real authenticated channel to the same server, which must keep working whatever raw peers do. */
function bystander(t: ExecutionContext, address: string): Channel {
  const channel = createChannel(address, { timeoutMs: 5000, auth: alice });
  t.teardown(() => channel.close());
  return channel;
}

for (const kind of kinds) {
  test(`${kind}: any frame before authenticating gets FAILURE, then the connection closes; other connections go on`, async (t) => {
    const { server, failures } = await startAuthServer(t, [listenAddress(t, kind)]);
    const address = server.addresses[0]!;
    const channel = bystander(t, address);
    t.is((await channel.unary(whoami, request("before"))).flightsInfo, "alice");
    const early: [string, Uint8Array][] = [
      ["REQUEST", whoamiFrame(1, "sneaky")],
      ["PING", encodeFrame({ kind: FrameKind.PING, codec: 0, flags: 0, status: 0, seq: 9, method: 0, timeoutMs: 0 }, Uint8Array.of(1))],
      ["CANCEL", encodeFrame({ kind: FrameKind.CANCEL, codec: 0, flags: 0, status: 0, seq: 1, method: whoami.id, timeoutMs: 0 }, new Uint8Array(0))],
    ];
    for (const [label, frame] of early) {
      const raw = await peer(t, address);
      raw.write(frame);
      await closedWithin(raw);
      t.deepEqual(authSteps(raw), ["CHALLENGE", "FAILURE"], label);
      t.is(raw.frames.length, 2, `${label}: nothing but the handshake came back`);
      const failure = authMessage(raw.frames[1]!) as Extract<AuthMessage, { step: AuthStepType.FAILURE }>;
      t.is(failure.message, "UNAUTHENTICATED: authentication required before any other frame");
      // Meanwhile the authenticated channel is served as before.
      t.is((await channel.unary(whoami, request(label))).errmsg, label);
    }
    t.deepEqual(
      failures.map((info) => info.reason),
      [AuthFailureReason.UNEXPECTED_FRAME, AuthFailureReason.UNEXPECTED_FRAME, AuthFailureReason.UNEXPECTED_FRAME],
    );
    t.regex(failures[0]!.message, /sent a frame of kind 1 before authenticating/);
  });

  test(`${kind}: after the handshake a raw peer is served (HELLO optional); its answer replayed on a new connection is refused`, async (t) => {
    const { server, failures } = await startAuthServer(t, [listenAddress(t, kind)]);
    const address = server.addresses[0]!;
    const first = await peer(t, address);
    // HELLO (what a channel with auth sends first) is accepted once, crossing the CHALLENGE.
    first.write(authFrame(encodeAuthMessage({ step: AuthStepType.HELLO })));
    const { response } = await authenticate(first);
    first.write(whoamiFrame(7, "raw"));
    const reply = await first.reply(7);
    t.is(reply.header.status, Code.OK);
    t.is(QueryFlightResponse.decode(reply.body).flightsInfo, "alice");

    // The recorded RESPONSE, replayed as is on a new connection: its challenge id is not the one outstanding.
    const replay = await peer(t, address);
    await frameAt(replay, 1);
    replay.write(authFrame(response));
    replay.write(whoamiFrame(1, "replayed"));
    await closedWithin(replay);
    t.deepEqual(authSteps(replay), ["CHALLENGE", "FAILURE"]);
    t.is((authMessage(replay.frames[1]!) as { message: string }).message, "UNAUTHENTICATED: authentication failed");

    // Replayed with its id rewritten to the new challenge's: the MAC was made for another challenge.
    const forged = await peer(t, address);
    const challenge = authMessage(await frameAt(forged, 1)) as Extract<AuthMessage, { step: AuthStepType.CHALLENGE }>;
    const patched = Uint8Array.from(response);
    new DataView(patched.buffer).setUint32(1, challenge.id);
    forged.write(authFrame(patched));
    await closedWithin(forged);
    t.deepEqual(authSteps(forged), ["CHALLENGE", "FAILURE"]);
    t.is((authMessage(forged.frames[1]!) as { message: string }).message, "UNAUTHENTICATED: authentication failed");

    t.deepEqual(
      failures.map((info) => [info.reason, info.name]),
      [
        [AuthFailureReason.REPLAYED, "alice"],
        [AuthFailureReason.WRONG_SECRET, "alice"],
      ],
    );
    // The first connection was never disturbed.
    first.write(whoamiFrame(8, "still"));
    t.is((await first.reply(8)).header.status, Code.OK);
  });

  test(`${kind}: a handshake not completed in time, or a re-challenge answered wrongly or not at all, ends with FAILURE and a close`, async (t) => {
    const { server, failures } = await startAuthServer(t, [listenAddress(t, kind)], {
      auth: {
        credentials: serverCredentials,
        serverName: "flightd",
        handshakeTimeoutMs: 300,
        rechallengeIntervalMs: 100,
        rechallengeTimeoutMs: 300,
      },
    });
    const address = server.addresses[0]!;

    const idle = await peer(t, address);
    await closedWithin(idle, 5000);
    t.deepEqual(authSteps(idle), ["CHALLENGE", "FAILURE"]);
    t.is((authMessage(idle.frames[1]!) as { message: string }).message, "UNAUTHENTICATED: authentication timed out");

    const silent = await peer(t, address);
    await authenticate(silent);
    await closedWithin(silent, 5000);
    t.deepEqual(authSteps(silent), ["CHALLENGE", "SUCCESS", "RECHALLENGE", "FAILURE"]);
    t.is((authMessage(silent.frames[3]!) as { message: string }).message, "UNAUTHENTICATED: re-authentication timed out");

    const liar = await peer(t, address);
    const { handshake } = await authenticate(liar);
    const rechallenge = authMessage(await frameAt(liar, 3));
    t.is(rechallenge.step, AuthStepType.RECHALLENGE);
    const answer = handshake.receive(liar.frames[2]!.body).send!;
    const wrong = Uint8Array.from(answer);
    wrong[wrong.length - 1]! ^= 1;
    liar.write(authFrame(wrong));
    await closedWithin(liar);
    t.deepEqual(authSteps(liar), ["CHALLENGE", "SUCCESS", "RECHALLENGE", "FAILURE"]);
    t.is((authMessage(liar.frames[3]!) as { message: string }).message, "UNAUTHENTICATED: re-authentication failed");

    t.deepEqual(
      failures.map((info) => [info.reason, info.name]),
      [
        [AuthFailureReason.TIMEOUT, undefined],
        [AuthFailureReason.TIMEOUT, "alice"],
        [AuthFailureReason.WRONG_SECRET, "alice"],
      ],
    );
    t.regex(failures[0]!.message, /^CHAP authentication failed: peer \S+: TIMEOUT: did not complete the handshake in time/);
    t.regex(failures[1]!.message, /^CHAP re-authentication failed: peer \S+ as "alice": TIMEOUT/);
  });
}

test("a server without auth answers an AUTH frame with FAILURE and closes", async (t) => {
  const { server } = await startAuthServer(t, ["tcp://127.0.0.1:0"], {});
  const raw = await peer(t, server.addresses[0]!);
  raw.write(authFrame(encodeAuthMessage({ step: AuthStepType.HELLO })));
  await closedWithin(raw);
  t.deepEqual(authSteps(raw), ["FAILURE"]);
  t.regex((authMessage(raw.frames[0]!) as { message: string }).message, /^UNAUTHENTICATED: this server does not use authentication/);
});

test("HELLO is accepted once, before the RESPONSE: a second one is a protocol error", async (t) => {
  const { server, failures } = await startAuthServer(t, ["tcp://127.0.0.1:0"]);
  const raw = await peer(t, server.addresses[0]!);
  const hello = authFrame(encodeAuthMessage({ step: AuthStepType.HELLO }));
  raw.write(hello);
  raw.write(hello);
  await closedWithin(raw);
  t.deepEqual(authSteps(raw), ["CHALLENGE", "FAILURE"]);
  t.is((authMessage(raw.frames[1]!) as { message: string }).message, "UNAUTHENTICATED: protocol error");
  t.is(failures[0]?.reason, AuthFailureReason.PROTOCOL);
  t.regex(failures[0]!.message, /sent HELLO in handshake state challenged/);
});
