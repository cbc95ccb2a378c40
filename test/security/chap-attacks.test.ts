// CHAP under attack on every transport (unix, tcp, udp, netlink): frames before authentication,
// wrong secrets and unknown names, a recorded answer replayed, a challenge reflected back as the
// client's nonce. Each attack meets a real server with auth through a raw link
// (helpers/raw-link.ts) while an authenticated channel to the same server keeps being served.
// test/runtime/auth-raw.test.ts covers timeouts and re-challenges over unix and tcp.
import test, { type ExecutionContext } from "ava";
import { randomBytes } from "node:crypto";
import { AuthFailureReason, Code, createChannel, RpcError, type Channel, type ChannelAuthOptions } from "msf";
import { FrameKind, type OutgoingHeader } from "msf/internal";
import { AuthStepType, encodeAuthMessage } from "../../runtime/auth/index.js";
import { ResponseFlags } from "../../runtime/auth/auth-messages.js";
import { AuthService, MALLORY_KEY, WRONG_KEY, alice } from "../helpers/auth-fixtures.js";
import { QueryFlightRequest, QueryFlightResponse } from "../helpers/flight-messages.js";
import { request } from "../helpers/runtime-fixtures.js";
import {
  AUTH_HEADER,
  authSteps,
  authenticate,
  challengeOf,
  closedWithin,
  failureMessage,
  startGuardedServer,
} from "./helpers/guarded-server.js";
import { rawLink } from "./helpers/raw-link.js";
import { listenAddress, transports } from "./helpers/transports.js";

const { whoami } = AuthService.methods;

function whoamiHeader(seq: number): OutgoingHeader {
  return { kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq, method: whoami.id, timeoutMs: 5000 };
}

function whoamiBody(name: string): Uint8Array {
  return QueryFlightRequest.encode(request(name)).finish();
}

/** An authenticated channel to the server, which must be served whatever the attacker does. */
function bystander(t: ExecutionContext, address: string): Channel {
  const channel = createChannel(address, { timeoutMs: 5000, auth: alice });
  t.teardown(() => channel.close());
  return channel;
}

/** The UNAUTHENTICATED error a channel with `auth` gets (fails the test if the call succeeds). */
async function refusal(t: ExecutionContext, address: string, auth: ChannelAuthOptions): Promise<RpcError> {
  const channel = createChannel(address, { timeoutMs: 5000, auth });
  t.teardown(() => channel.close());
  const error = await t.throwsAsync(channel.unary(whoami, request("guess")), { instanceOf: RpcError });
  return error!;
}

for (const kind of transports) {
  test(`${kind}: a frame before authenticating gets FAILURE and the connection is closed; its handler never runs`, async (t) => {
    const guarded = await startGuardedServer(t, listenAddress(t, kind));
    const channel = bystander(t, guarded.address);
    t.is((await channel.unary(whoami, request("before"))).flightsInfo, "alice");
    const early: [string, OutgoingHeader, Uint8Array][] = [
      ["REQUEST", whoamiHeader(1), whoamiBody("sneaky")],
      ["PING", { kind: FrameKind.PING, codec: 0, flags: 0, status: 0, seq: 9, method: 0, timeoutMs: 0 }, Uint8Array.of(1, 2)],
    ];
    for (const [label, header, body] of early) {
      const link = await rawLink(t, guarded.address);
      await challengeOf(link);
      link.send(header, body);
      t.is(await failureMessage(link), "UNAUTHENTICATED: authentication required before any other frame", label);
      await closedWithin(link);
      t.deepEqual(authSteps(link), ["CHALLENGE", "FAILURE"], `${label}: nothing but the handshake came back`);
      t.is((await channel.unary(whoami, request(`after ${label}`))).errmsg, `after ${label}`);
    }
    t.deepEqual(guarded.ran, ["before", "after REQUEST", "after PING"], "the early request never ran");
    t.deepEqual(
      guarded.failures.map((info) => info.reason),
      [AuthFailureReason.UNEXPECTED_FRAME, AuthFailureReason.UNEXPECTED_FRAME],
    );
  });

  test(`${kind}: a wrong secret and an unknown name get the same answer; only the server's log tells them apart`, async (t) => {
    const guarded = await startGuardedServer(t, listenAddress(t, kind));
    const wrong = await refusal(t, guarded.address, { name: "alice", key: WRONG_KEY });
    const unknown = await refusal(t, guarded.address, { name: "mallory", key: MALLORY_KEY });
    for (const error of [wrong, unknown]) t.is(error.code, Code.UNAUTHENTICATED);
    const strip = (error: RpcError) => error.rawMessage.replace(/authenticating as "\w+"/, "authenticating as NAME");
    t.is(strip(wrong), strip(unknown));
    t.regex(wrong.rawMessage, /authentication failed/);
    t.deepEqual(
      guarded.failures.map((info) => [info.reason, info.name]),
      [
        [AuthFailureReason.WRONG_SECRET, "alice"],
        [AuthFailureReason.UNKNOWN_NAME, "mallory"],
      ],
    );
    // The right key still gets in.
    t.is((await bystander(t, guarded.address).unary(whoami, request("right"))).flightsInfo, "alice");
  });

  test(`${kind}: a recorded answer replayed on another connection is refused, as is the same answer re-addressed to the new challenge`, async (t) => {
    const guarded = await startGuardedServer(t, listenAddress(t, kind));
    const victim = await rawLink(t, guarded.address);
    const { response } = await authenticate(victim);
    victim.send(whoamiHeader(7), whoamiBody("victim"));
    const reply = await victim.waitFor((frame) => frame.header.kind === FrameKind.RESPONSE && frame.header.seq === 7);
    t.is(reply.header.status, Code.OK);
    t.is(QueryFlightResponse.decode(reply.body).flightsInfo, "alice");

    // As recorded: it names a challenge that is not the one outstanding on the attacker's connection.
    const replay = await rawLink(t, guarded.address);
    await challengeOf(replay);
    replay.send(AUTH_HEADER, response);
    t.is(await failureMessage(replay), "UNAUTHENTICATED: authentication failed");
    await closedWithin(replay);

    // With the identifier rewritten to the new challenge's: the MAC was made for another challenge.
    const forged = await rawLink(t, guarded.address);
    const challenge = await challengeOf(forged);
    const patched = Uint8Array.from(response);
    new DataView(patched.buffer).setUint32(1, challenge.id);
    forged.send(AUTH_HEADER, patched);
    t.is(await failureMessage(forged), "UNAUTHENTICATED: authentication failed");
    await closedWithin(forged);

    t.deepEqual(
      guarded.failures.map((info) => [info.reason, info.name]),
      [
        [AuthFailureReason.REPLAYED, "alice"],
        [AuthFailureReason.WRONG_SECRET, "alice"],
      ],
    );
    t.deepEqual(guarded.ran, ["victim"]);
    // The victim's session is untouched.
    victim.send(whoamiHeader(8), whoamiBody("still"));
    t.is((await victim.waitFor((frame) => frame.header.seq === 8)).header.status, Code.OK);
  });

  test(`${kind}: a challenge sent back as the client's nonce (its own, or another connection's) is refused as reflected`, async (t) => {
    const guarded = await startGuardedServer(t, listenAddress(t, kind));
    const first = await rawLink(t, guarded.address);
    const firstChallenge = await challengeOf(first);
    const second = await rawLink(t, guarded.address);
    const secondChallenge = await challengeOf(second);
    const reflect = (id: number, nonce: Uint8Array) =>
      encodeAuthMessage({
        step: AuthStepType.RESPONSE,
        id,
        flags: ResponseFlags.MUTUAL,
        clientName: "alice",
        clientNonce: nonce,
        mac: new Uint8Array(randomBytes(32)),
      });
    // The second connection answers with the first connection's challenge as its nonce, the
    // first with its own: in mutual mode a proof over either would be an answer to a challenge.
    second.send(AUTH_HEADER, reflect(secondChallenge.id, firstChallenge.challenge));
    first.send(AUTH_HEADER, reflect(firstChallenge.id, firstChallenge.challenge));
    for (const link of [second, first]) {
      t.is(await failureMessage(link), "UNAUTHENTICATED: authentication failed");
      await closedWithin(link);
      t.deepEqual(authSteps(link), ["CHALLENGE", "FAILURE"], "no proof was sent");
    }
    t.deepEqual(
      guarded.failures.map((info) => info.reason),
      [AuthFailureReason.REFLECTED, AuthFailureReason.REFLECTED],
    );
    // A well-behaved handshake on a third connection still succeeds.
    const honest = await rawLink(t, guarded.address);
    const { handshake } = await authenticate(honest);
    t.is(handshake.state, "authenticated");
  });
}
