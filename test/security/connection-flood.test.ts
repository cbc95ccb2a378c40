// Connection floods against a server with CHAP, on every transport: connections that open and
// never authenticate hold at most maxPendingHandshakes places (ServerAuthOptions), every one
// beyond is refused at once with FAILURE (reason OVERLOADED) before any challenge, and each held
// place is freed by the handshake timeout. Authenticated connections hold no place.
import test from "ava";
import { AuthFailureReason, Code, createChannel, createServerAuth, RpcError } from "msf";
import { AuthService, alice } from "../helpers/auth-fixtures.js";
import { request, waitFor } from "../helpers/runtime-fixtures.js";
import { authSteps, challengeOf, closedWithin, failureMessage, keyCredentials, startGuardedServer } from "./helpers/guarded-server.js";
import { ManualClock } from "../auth/helpers/manual-clock.js";
import { rawLink, type RawLink } from "./helpers/raw-link.js";
import { listenAddress, transports } from "./helpers/transports.js";

const { whoami } = AuthService.methods;
const CAP = 6;
const FLOOD = 30;
const HANDSHAKE_TIMEOUT_MS = 10_000;

for (const kind of transports) {
  test(`${kind}: ${FLOOD} silent connections: ${CAP} are challenged, the rest refused at once; the timeout frees every place`, async (t) => {
    // The handshake timeout runs on a clock the test moves: however slow the machine, no place
    // frees up while the flood arrives, and every one does when the time comes.
    const clock = new ManualClock();
    const auth = createServerAuth({ credentials: keyCredentials, serverName: "flightd", maxPendingHandshakes: CAP, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS, clock });
    const guarded = await startGuardedServer(t, listenAddress(t, kind), auth);
    let highest = 0;
    const sampler = setInterval(() => (highest = Math.max(highest, auth.pendingHandshakes)), 1);
    t.teardown(() => clearInterval(sampler));

    const links: RawLink[] = await Promise.all(Array.from({ length: FLOOD }, () => rawLink(t, guarded.address)));
    // Every link hears either a CHALLENGE or a FAILURE first.
    await waitFor(() => links.every((link) => link.frames.length > 0), 10_000, "a first frame on every link");
    const challenged = links.filter((link) => authSteps(link)[0] === "CHALLENGE");
    const refused = links.filter((link) => authSteps(link)[0] === "FAILURE");
    t.is(challenged.length, CAP);
    t.is(refused.length, FLOOD - CAP);
    for (const link of refused) {
      t.is(await failureMessage(link), "UNAUTHENTICATED: too many connections are authenticating; retry later");
      await closedWithin(link, 5000);
      t.deepEqual(authSteps(link), ["FAILURE"], "refused without a challenge");
    }
    t.true(highest <= CAP, `at most ${CAP} handshakes pending (saw ${highest})`);
    t.is(auth.pendingHandshakes, CAP);
    t.is(guarded.failures.filter((info) => info.reason === AuthFailureReason.OVERLOADED).length, FLOOD - CAP);

    // While the places are held, a legitimate client is refused too (at once, and told why).
    const early = createChannel(guarded.address, { timeoutMs: 10_000, auth: alice });
    t.teardown(() => early.close());
    const blocked = await t.throwsAsync(early.unary(whoami, request("during")), { instanceOf: RpcError });
    t.is(blocked?.code, Code.UNAUTHENTICATED);
    t.regex(blocked!.rawMessage, /too many connections are authenticating/);

    // The handshake timeout closes the silent ones and frees their places.
    await clock.advance(HANDSHAKE_TIMEOUT_MS);
    for (const link of challenged) await closedWithin(link, 5000);
    t.is(auth.pendingHandshakes, 0);
    const reasons = guarded.failures.map((info) => info.reason);
    t.true(reasons.filter((reason) => reason === AuthFailureReason.OVERLOADED).length > FLOOD - CAP, "the legitimate client was refused too");
    t.is(reasons.filter((reason) => reason === AuthFailureReason.TIMEOUT).length, CAP);
    t.regex(guarded.failures.find((info) => info.reason === AuthFailureReason.OVERLOADED)!.message, new RegExp(`: OVERLOADED: ${CAP} connections are already authenticating \\(maxPendingHandshakes\\)$`));

    // Then a client gets in (a new channel: the refused one holds back for a second, by design).
    const after = createChannel(guarded.address, { timeoutMs: 10_000, auth: alice });
    t.teardown(() => after.close());
    t.is((await after.unary(whoami, request("after"))).flightsInfo, "alice");
    t.deepEqual(guarded.ran, ["after"]);
  });

  test(`${kind}: authenticated connections do not hold a place: ${CAP * 2} clients with a cap of ${CAP} are all served`, async (t) => {
    const auth = createServerAuth({ credentials: keyCredentials, serverName: "flightd", maxPendingHandshakes: CAP });
    const guarded = await startGuardedServer(t, listenAddress(t, kind), auth);
    const replies: string[] = [];
    for (let i = 0; i < CAP * 2; i++) {
      const channel = createChannel(guarded.address, { timeoutMs: 5000, auth: alice });
      t.teardown(() => channel.close());
      replies.push((await channel.unary(whoami, request(`client ${i}`))).flightsInfo);
    }
    t.deepEqual(replies, Array.from({ length: CAP * 2 }, () => "alice"));
    t.is(auth.pendingHandshakes, 0);
    // A connection that failed its handshake gives its place back as well.
    const liar = await rawLink(t, guarded.address);
    await challengeOf(liar);
    t.is(auth.pendingHandshakes, 1);
    liar.send({ kind: 1, codec: 0, flags: 0, status: 0, seq: 1, method: whoami.id, timeoutMs: 0 }, new Uint8Array(0));
    await closedWithin(liar);
    t.is(auth.pendingHandshakes, 0);
  });
}

test("maxPendingHandshakes must be an integer >= 1 (default 1000)", (t) => {
  t.is(createServerAuth({ credentials: keyCredentials }).maxPendingHandshakes, 1000);
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    t.throws(() => createServerAuth({ credentials: keyCredentials, maxPendingHandshakes: bad }), {
      message: `auth option maxPendingHandshakes must be an integer >= 1, got ${bad}`,
    });
  }
});

for (const kind of ["udp", "netlink"] as const) {
  test(`${kind}: a CONNECT never followed up costs the server a bounded burst that stops at the handshake timeout`, async (t) => {
    const timeoutMs = 1000;
    const auth = createServerAuth({ credentials: keyCredentials, serverName: "flightd", handshakeTimeoutMs: timeoutMs });
    const guarded = await startGuardedServer(t, listenAddress(t, kind), auth);
    const startedAt = Date.now();
    const link = await rawLink(t, guarded.address);
    await closedWithin(link, timeoutMs + 5000);
    const closedAfter = Date.now() - startedAt;
    const settled = link.sent.length;
    // Nothing more arrives once the connection is closed.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const bytesIn = link.sent.reduce((sum, datagram) => sum + datagram.length, 0);
    const received = link.received;
    const bytesOut = received.reduce((sum, entry) => sum + entry.datagram.length, 0);
    t.log(
      `${kind}: 1 CONNECT of ${bytesIn} bytes drew ${received.length} datagrams (${bytesOut} bytes, ${(bytesOut / bytesIn).toFixed(1)}x) ` +
        `over ${closedAfter} ms, handshake timeout ${timeoutMs} ms`,
    );
    t.is(link.sent.length, settled);
    t.true(closedAfter >= timeoutMs, `closed after ${closedAfter} ms, not before the timeout`);
    t.true(received.every((entry) => entry.at - startedAt <= closedAfter + 50), "nothing after the close");
    // ACCEPT, CHALLENGE, its copies on the retransmission schedule (20, 60, 140, 300, 620 ms: five within 1 s), FAILURE, CLOSE; +3 of margin.
    t.true(received.length <= 2 + 5 + 2 + 3, `${received.length} datagrams`);
    t.deepEqual(guarded.failures.map((info) => info.reason), [AuthFailureReason.TIMEOUT]);
  });
}
