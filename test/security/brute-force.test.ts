// Brute force through the failure throttle, on every transport, with real sockets and real time:
// attackers guess alice's key as fast as the server lets them, over parallel connections, and
// the test counts how many guesses the server actually checked. The throttle's documented bound
// (runtime/auth/failure-throttle.ts): after `freeFailures`, one checked verdict per `maxDelayMs`
// per peer key, however many connections. Parameters are scaled down (200 ms instead of 5 s) so
// the window fits in a test; the bound is asserted with margin, the rates are logged. The same
// bound with the default parameters is checked on an injected clock in test/auth/throttle.test.ts.
import test, { type ExecutionContext } from "ava";
import { AuthFailureReason, createServerAuth } from "msf";
import { throttleKey } from "../../runtime/server/server-connection.js";
import { clientHandshake, createClientAuth } from "../../runtime/auth/index.js";
import { WRONG_KEY } from "../helpers/auth-fixtures.js";
import { AUTH_HEADER, authOf, failureMessage, keyCredentials, startGuardedServer } from "./helpers/guarded-server.js";
import { rawLink } from "./helpers/raw-link.js";
import { listenAddress, transports } from "./helpers/transports.js";

const THROTTLE = { freeFailures: 3, baseDelayMs: 50, maxDelayMs: 200, maxQueueMs: 400 };
const ATTACK_MS = 1500;
/** Guesses made at least, however slow the machine (so the throttle has something to refuse). */
const MIN_GUESSES = 20;
const ATTACKERS = 3;
/** Delays before the steady state: 50 + 100 ms, i.e. two verdicts below maxDelayMs apart. */
const RAMP_VERDICTS = 2;
const wrongAlice = createClientAuth({ name: "alice", key: WRONG_KEY, serverName: "flightd" });

interface Outcome {
  /** ms since the attack began, when the verdict arrived. */
  readonly at: number;
  readonly checked: boolean;
}

/** One attacker: guess after guess on fresh connections until `stopAt`; every verdict recorded. */
async function attacker(t: ExecutionContext, address: string, startedAt: number, stopAt: number, outcomes: Outcome[]): Promise<void> {
  for (let attempt = 0; attempt < 100_000 && (Date.now() < stopAt || outcomes.length < MIN_GUESSES); attempt++) {
    const link = await rawLink(t, address);
    try {
      const challenge = await link.waitFor((frame) => authOf(frame) !== undefined, 5000, "the CHALLENGE");
      const answer = clientHandshake(wrongAlice).receive(challenge.body).send!;
      link.send(AUTH_HEADER, answer);
      const message = await failureMessage(link, 10_000);
      outcomes.push({ at: Date.now() - startedAt, checked: message === "UNAUTHENTICATED: authentication failed" });
    } finally {
      link.destroy();
    }
  }
}

for (const kind of transports) {
  test(`${kind}: ${ATTACKERS} parallel guessers get at most one checked guess per maxDelayMs after the free failures`, async (t) => {
    const auth = createServerAuth({ credentials: keyCredentials, serverName: "flightd", throttle: THROTTLE });
    const guarded = await startGuardedServer(t, listenAddress(t, kind), auth);
    const outcomes: Outcome[] = [];
    const startedAt = Date.now();
    await Promise.all(Array.from({ length: ATTACKERS }, () => attacker(t, guarded.address, startedAt, startedAt + ATTACK_MS, outcomes)));
    const elapsed = Date.now() - startedAt;

    const checked = outcomes.filter((outcome) => outcome.checked);
    const refused = outcomes.length - checked.length;
    const secondHalf = checked.filter((outcome) => outcome.at >= elapsed / 2).length;
    const rate = (n: number, ms: number) => ((n * 1000) / ms).toFixed(1);
    t.log(
      `${kind}: ${outcomes.length} guesses in ${elapsed} ms (${rate(outcomes.length, elapsed)}/s): ${checked.length} checked ` +
        `(${rate(checked.length, elapsed)}/s overall, ${rate(secondHalf, elapsed / 2)}/s in the second half), ${refused} refused unchecked`,
    );
    // The whole run: the free failures, the ramp, then one per maxDelayMs; +3 of margin.
    const bound = THROTTLE.freeFailures + RAMP_VERDICTS + Math.ceil(elapsed / THROTTLE.maxDelayMs) + 3;
    t.true(checked.length <= bound, `${checked.length} checked guesses, bound ${bound}`);
    // The second half alone is logged, not asserted: event-loop lag on a loaded machine can carry
    // deliveries due in the first half into it. The bound over the whole run holds regardless.
    t.true(checked.length >= THROTTLE.freeFailures, "the free failures were checked");
    t.true(outcomes.length >= MIN_GUESSES, `${outcomes.length} guesses made`);
    const reasons = guarded.failures.map((info) => info.reason);
    t.is(reasons.filter((reason) => reason === AuthFailureReason.THROTTLED).length, refused);
    t.is(reasons.filter((reason) => reason === AuthFailureReason.WRONG_SECRET).length, checked.length);
    t.deepEqual(guarded.ran, []);
  });
}

test("every netlink peer counts under one throttle key: a port id is new with every client socket", (t) => {
  t.is(throttleKey("netlink://4242"), "netlink:local");
  t.is(throttleKey("netlink://2147483650"), throttleKey("netlink://17"));
});
