// CHAP authentication between real channels and servers, over unix sockets and tcp: who gets in,
// what handlers see, how every mismatch fails (UNAUTHENTICATED, never a hang), what the server
// reports, and that no secret leaks into any of it.
import test, { type ExecutionContext } from "ava";
import { join } from "node:path";
import { AuthFailureReason, Code, createChannel, createServer, RpcError, type Channel } from "msf";
import {
  ALICE_KEY,
  ALICE_SECRET,
  AuthService,
  BOB_SECRET,
  MALLORY_KEY,
  WRONG_KEY,
  WRONG_SECRET,
  alice,
  assertNoSecret,
  authHandlers,
  serverCredentials,
  startAuthServer,
} from "../helpers/auth-fixtures.js";
import { request, rpcError, startTestServer, tempDir, waitFor } from "../helpers/runtime-fixtures.js";

const { whoami } = AuthService.methods;

type Kind = "unix" | "tcp";
const kinds: Kind[] = ["unix", "tcp"];

function listenAddress(t: ExecutionContext, kind: Kind): string {
  return kind === "unix" ? `unix:${join(tempDir(t), "auth.sock")}` : "tcp://127.0.0.1:0";
}

/** A channel closed when the test ends. */
function channel(t: ExecutionContext, target: string, options: Parameters<typeof createChannel>[1] = {}): Channel {
  const created = createChannel(target, { timeoutMs: 5000, ...options });
  t.teardown(() => created.close());
  return created;
}

/** Everything a caller can see of an error. */
function errorTexts(error: RpcError): string[] {
  return [error.message, error.rawMessage, String(error), error.stack ?? "", JSON.stringify(error), String(error.cause ?? "")];
}

for (const kind of kinds) {
  test(`${kind}: an authenticated client is served; handlers see its name as context.peer.identity`, async (t) => {
    const { server, failures } = await startAuthServer(t, [listenAddress(t, kind)]);
    const target = server.addresses[0]!;
    // By secret (derived at createChannel) and by key; mutual by default.
    const bySecret = channel(t, target, { auth: { name: "alice", secret: ALICE_SECRET } });
    const bob = channel(t, target, { auth: { name: "bob", secret: new TextEncoder().encode(BOB_SECRET) } });
    // Calls made before the handshake completes are held and sent after it, in order.
    const replies = await Promise.all([1, 2, 3].map((n) => bySecret.unary(whoami, request(`call ${n}`))));
    t.deepEqual(replies.map((reply) => [reply.errmsg, reply.flightsInfo]), [
      ["call 1", "alice"],
      ["call 2", "alice"],
      ["call 3", "alice"],
    ]);
    t.is((await bob.unary(whoami, request("b"))).flightsInfo, "bob");
    // A server without auth: no identity.
    const open = await startTestServer(t, [listenAddress(t, kind)]);
    open.addService(AuthService, authHandlers);
    t.is((await channel(t, open.addresses[0]!).unary(whoami, request("anon"))).flightsInfo, "(none)");
    t.deepEqual(failures, []);
  });

  test(`${kind}: mutual authentication with a configured server name succeeds; a wrong server name is refused`, async (t) => {
    const { server, failures } = await startAuthServer(t, [listenAddress(t, kind)]);
    const target = server.addresses[0]!;
    const mutual = channel(t, target, { auth: { ...alice, mutual: true, serverName: "flightd" } });
    t.is((await mutual.unary(whoami, request("m"))).flightsInfo, "alice");
    const oneWay = channel(t, target, { auth: { ...alice, mutual: false } });
    t.is((await oneWay.unary(whoami, request("o"))).flightsInfo, "alice");

    const elsewhere = channel(t, target, { auth: { ...alice, serverName: "billingd" } });
    const error = await rpcError(t, elsewhere.unary(whoami, request("x")));
    t.is(error.code, Code.UNAUTHENTICATED);
    t.regex(error.message, /unexpected server name/);
    // The client told the server why it left; the server logs it.
    await waitFor(() => failures.length === 1, 5000, "the server's report");
    t.is(failures[0]!.reason, AuthFailureReason.PEER_ABORTED);
    t.regex(failures[0]!.message, /sent FAILURE: "UNAUTHENTICATED: unexpected server name"/);
  });

  test(`${kind}: a wrong secret and an unknown name fail alike (UNAUTHENTICATED), and the server reports each`, async (t) => {
    const { server, failures } = await startAuthServer(t, [listenAddress(t, kind)]);
    const target = server.addresses[0]!;
    const wrong = await rpcError(t, channel(t, target, { auth: { name: "alice", secret: WRONG_SECRET } }).unary(whoami, request("w")));
    const unknown = await rpcError(t, channel(t, target, { auth: { name: "mallory", key: MALLORY_KEY } }).unary(whoami, request("u")));
    for (const error of [wrong, unknown]) {
      t.is(error.code, Code.UNAUTHENTICATED);
      t.regex(error.message, /^\[UNAUTHENTICATED\] call to auth\.svc\.whoami: authentication failed \(authenticating as "\w+" with /);
    }
    // The same words, whichever was wrong: only the client's own name differs.
    t.is(wrong.message.replace('"alice"', '"?"'), unknown.message.replace('"mallory"', '"?"'));

    t.deepEqual(
      failures.map((info) => [info.reason, info.name]),
      [
        [AuthFailureReason.WRONG_SECRET, "alice"],
        [AuthFailureReason.UNKNOWN_NAME, "mallory"],
      ],
    );
    for (const info of failures) {
      t.true(info.peer.startsWith(`${kind}:`));
      t.true(info.message.includes(`peer ${info.peer} as "${info.name}": ${info.reason}`));
    }
    assertNoSecret(t, [...errorTexts(wrong), ...errorTexts(unknown), ...failures.map((info) => JSON.stringify(info))]);
  });

  test(`${kind}: a client without auth against a server with auth fails UNAUTHENTICATED ("requires authentication")`, async (t) => {
    const { server } = await startAuthServer(t, [listenAddress(t, kind)]);
    const plain = channel(t, server.addresses[0]!);
    const error = await rpcError(t, plain.unary(whoami, request("p")));
    t.is(error.code, Code.UNAUTHENTICATED);
    t.regex(error.message, /the server at \S+ requires authentication: give the channel an auth option/);
    // Every call meanwhile fails the same way, at once.
    const again = await rpcError(t, plain.unary(whoami, request("q")));
    t.is(again.code, Code.UNAUTHENTICATED);
    t.is(again.rawMessage, error.rawMessage);
  });

  test(`${kind}: a client with auth against a server without auth fails UNAUTHENTICATED at once, not after a timeout`, async (t) => {
    const open = await startTestServer(t, [listenAddress(t, kind)]);
    open.addService(AuthService, authHandlers);
    // A handshake timeout far longer than the call's: a client left waiting would fail DEADLINE_EXCEEDED.
    const eager = channel(t, open.addresses[0]!, { timeoutMs: 3000, auth: { ...alice, handshakeTimeoutMs: 60_000 } });
    const error = await rpcError(t, eager.unary(whoami, request("e")));
    t.is(error.code, Code.UNAUTHENTICATED);
    t.regex(error.message, /this server does not use authentication: create the channel without the auth option/);
  });
}

test("after a failed authentication the channel fails calls at once for a while, then tries again", async (t) => {
  const { server, failures } = await startAuthServer(t, ["tcp://127.0.0.1:0"]);
  const wrong = channel(t, server.addresses[0]!, { auth: { name: "alice", key: WRONG_KEY } });
  const first = await rpcError(t, wrong.unary(whoami, request("1")));
  t.is(first.code, Code.UNAUTHENTICATED);
  t.is(failures.length, 1);
  // Ten more calls: all refused with the same reason, without a single new handshake.
  const quick = await Promise.all(Array.from({ length: 10 }, (_, n) => rpcError(t, wrong.unary(whoami, request(`q${n}`)))));
  t.true(quick.every((error) => error.code === Code.UNAUTHENTICATED && error.rawMessage === first.rawMessage));
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(failures.length, 1, "no handshake during the retry delay");
  // After the delay (1 s) the next call tries again: one more handshake, one more failure.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.is((await rpcError(t, wrong.unary(whoami, request("later")))).code, Code.UNAUTHENTICATED);
  t.is(failures.length, 2);
});

test("bad auth options are refused at creation with INVALID_ARGUMENT naming the problem, never the secret", (t) => {
  const target = "tcp://127.0.0.1:1";
  const cases: [unknown, RegExp][] = [
    [{ name: "alice" }, /needs exactly one of secret and key/],
    [{ name: "alice", secret: ALICE_SECRET, key: ALICE_KEY }, /needs exactly one of secret and key/],
    [{ name: "", secret: ALICE_SECRET }, /name is empty/],
    [{ name: "alice", key: "not-a-key" }, /is not a derived key/],
    [{ name: "alice", password: ALICE_SECRET }, /unknown field password/],
    [new (class Credentials {})(), /must be a plain object/],
  ];
  for (const [auth, pattern] of cases) {
    const error = t.throws(() => createChannel(target, { auth: auth as never }), { instanceOf: RpcError });
    t.is(error?.code, Code.INVALID_ARGUMENT);
    t.regex(error!.message, pattern);
    assertNoSecret(t, [error!.message]);
  }
  const serverCases: [unknown, RegExp][] = [
    [{}, /needs credentials or a secretsFile/],
    [{ credentials: {} }, /names no client/],
    [{ credentials: serverCredentials, rechallengeIntervalMs: -1 }, /rechallengeIntervalMs must be a number >= 0/],
    [{ credentials: { alice: "" } }, /empty secret/],
  ];
  for (const [auth, pattern] of serverCases) {
    const error = t.throws(() => createServer({ listen: [target], auth: auth as never }), { instanceOf: RpcError });
    t.is(error?.code, Code.INVALID_ARGUMENT);
    t.regex(error!.message, pattern);
  }
  t.throws(() => createServer({ listen: [target], onAuthFailure: "log" as never }), { message: /option onAuthFailure must be a function/ });
});
