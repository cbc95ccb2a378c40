// Secrets never leak through what a server or client shows, on any transport: every failure an
// attacker or a misconfigured client can cause (wrong secret, unknown name, frame before the
// handshake, timeout, throttled, overloaded, replayed answer) is provoked against a server that
// holds secrets (not just derived keys), and every rendering of what comes out — onAuthFailure
// reports, the caller's RpcError (message, stack, cause, inspect, JSON), the server and auth
// objects — is searched for every secret, key and MAC of the run in text, hex, base64 and decimal.
// test/auth/redaction.test.ts does the same for the auth core's objects one by one.
import test, { type ExecutionContext } from "ava";
import { inspect } from "node:util";
import { createChannel, createServerAuth, RpcError, type Channel, type ChannelAuthOptions } from "msf";
import { FrameKind } from "msf/internal";
import { ALICE_SECRET, AuthService, MALLORY_SECRET, WRONG_SECRET, assertNoSecret, secretForms } from "../helpers/auth-fixtures.js";
import { request } from "../helpers/runtime-fixtures.js";
import { AUTH_HEADER, authenticate, challengeOf, closedWithin, failureMessage, startGuardedServer } from "./helpers/guarded-server.js";
import { ManualClock } from "../auth/helpers/manual-clock.js";
import { rawLink } from "./helpers/raw-link.js";
import { listenAddress, transports } from "./helpers/transports.js";

const { whoami } = AuthService.methods;

/** Every way an error may be shown: message, String, stack, util.inspect (cause included), JSON. */
function renderings(value: unknown): string[] {
  const out = [inspect(value, { depth: 8, showHidden: true }), inspect(value, { depth: 8 })];
  try {
    out.push(JSON.stringify(value) ?? "");
  } catch (error) {
    out.push(String(error));
  }
  if (value instanceof Error) out.push(value.message, String(value), value.stack ?? "");
  return out;
}

/** The forms (hex, base64, decimal list) of MACs a raw handshake sent, to search for as well. */
function macForms(bodies: readonly Uint8Array[]): string[] {
  // A RESPONSE ends with its 32-byte MAC.
  return bodies.flatMap((body) => {
    const mac = Buffer.from(body.subarray(body.length - 32));
    return [mac.toString("hex"), mac.toString("base64"), [...mac].join(",")];
  });
}

async function failedCall(t: ExecutionContext, address: string, auth: ChannelAuthOptions, texts: string[]): Promise<void> {
  const channel: Channel = createChannel(address, { timeoutMs: 5000, auth });
  t.teardown(() => channel.close());
  const error = await t.throwsAsync(channel.unary(whoami, request("leak?")), { instanceOf: RpcError });
  texts.push(...renderings(error));
}

for (const kind of transports) {
  test(`${kind}: no secret, key or MAC in any failure report, error or object rendering`, async (t) => {
    const credentials = { alice: ALICE_SECRET, mallory: MALLORY_SECRET };
    // Handshake timeouts run on a clock the test moves: each failure happens when the test says,
    // however loaded the machine. The throttle refuses (never delays) once the free failures are spent.
    const clock = new ManualClock();
    const auth = createServerAuth({
      credentials,
      serverName: "flightd",
      handshakeTimeoutMs: 400,
      maxPendingHandshakes: 2,
      throttle: { freeFailures: 3, baseDelayMs: 10, maxDelayMs: 10, maxQueueMs: 0 },
      clock,
    });
    const guarded = await startGuardedServer(t, listenAddress(t, kind), auth);
    const texts: string[] = [];
    const sentResponses: Uint8Array[] = [];

    // A client with the right secret: served (the secret is derived at createChannel).
    const good = createChannel(guarded.address, { timeoutMs: 5000, auth: { name: "alice", secret: ALICE_SECRET, serverName: "flightd" } });
    t.teardown(() => good.close());
    t.is((await good.unary(whoami, request("ok"))).flightsInfo, "alice");

    // Wrong secret, unknown name.
    await failedCall(t, guarded.address, { name: "alice", secret: WRONG_SECRET }, texts);
    await failedCall(t, guarded.address, { name: "nobody", secret: ALICE_SECRET }, texts);

    // A real answer replayed on another connection.
    const victim = await rawLink(t, guarded.address);
    const { response } = await authenticate(victim);
    sentResponses.push(response);
    const replay = await rawLink(t, guarded.address);
    await challengeOf(replay);
    replay.send(AUTH_HEADER, response);
    texts.push(await failureMessage(replay));

    // A frame before the handshake.
    const early = await rawLink(t, guarded.address);
    await challengeOf(early);
    early.send({ kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 1, method: whoami.id, timeoutMs: 0 }, new Uint8Array(0));
    texts.push(await failureMessage(early));

    // Two silent connections hold both places: the next is refused (overloaded), then they time out.
    const silent = [await rawLink(t, guarded.address), await rawLink(t, guarded.address)];
    await Promise.all(silent.map((link) => challengeOf(link)));
    await failedCall(t, guarded.address, { name: "alice", secret: ALICE_SECRET }, texts);
    await clock.advance(400);
    for (const link of silent) {
      texts.push(await failureMessage(link, 5000));
      await closedWithin(link, 5000);
    }

    // The failures so far (wrong, unknown, replayed, early) spent the free ones: the next wrong guess is throttled.
    await failedCall(t, guarded.address, { name: "mallory", secret: WRONG_SECRET }, texts);

    const reasons = new Set(guarded.failures.map((info) => info.reason));
    for (const reason of ["WRONG_SECRET", "UNKNOWN_NAME", "REPLAYED", "UNEXPECTED_FRAME", "OVERLOADED", "TIMEOUT", "THROTTLED"]) {
      t.true(reasons.has(reason as never), `provoked ${reason} (got ${[...reasons].join(", ")})`);
    }
    for (const info of guarded.failures) texts.push(...renderings(info), info.message);
    texts.push(...renderings(guarded.server), ...renderings(auth));

    assertNoSecret(t, texts);
    const macs = macForms(sentResponses);
    t.deepEqual(
      texts.filter((text) => macs.some((form) => text.includes(form))),
      [],
      "no MAC in these texts",
    );
    t.true(secretForms().includes(ALICE_SECRET));
  });
}

// MsfChannel keeps the options as given (for the blocking caller's worker) in an ES #private
// field, which neither util.inspect nor JSON.stringify shows.
test("a channel created with a secret does not show it in util.inspect or JSON", async (t) => {
  const channel = createChannel("tcp://127.0.0.1:9", { auth: { name: "alice", secret: ALICE_SECRET } });
  t.teardown(() => channel.close());
  assertNoSecret(t, renderings(channel));
});
