// Failure throttling as a real client sees it: after the free failures of one peer key (here the
// tcp loopback address) its verdicts are delayed and queued, attempts beyond the queue are refused
// unchecked, and another peer key (the unix socket) is not slowed down. Asserts on counts and on
// the order verdicts arrive in, never on durations.
import test from "ava";
import { join } from "node:path";
import { AuthFailureReason, Code, createChannel, RpcError, type ChannelAuthOptions } from "msf";
import { ALICE_KEY, AuthService, WRONG_KEY, assertNoSecret, serverCredentials, startAuthServer } from "../helpers/auth-fixtures.js";
import { throttleKey } from "../../runtime/server/server-connection.js";
import { request, tempDir } from "../helpers/runtime-fixtures.js";

const { whoami } = AuthService.methods;

/** One call on a fresh channel (each channel has its own retry delay); resolves with the outcome, never rejects. */
async function attempt(target: string, auth: ChannelAuthOptions): Promise<string> {
  const channel = createChannel(target, { timeoutMs: 10_000, auth });
  try {
    const reply = await channel.unary(whoami, request("x"));
    return `ok ${reply.flightsInfo}`;
  } catch (error) {
    const rpcError = RpcError.from(error);
    return `${rpcError.code === Code.UNAUTHENTICATED ? "refused" : rpcError.code}: ${rpcError.rawMessage.replace(/^call to \S+: | \(authenticating .*$/g, "")}`;
  } finally {
    await channel.close();
  }
}

test("after 3 failures from one address its verdicts queue up and extra attempts are refused unchecked; another peer is not slowed", async (t) => {
  // Verdict delay 1000 ms after 3 failures, doubling; at most 2500 ms of queue per peer key.
  const { server, failures } = await startAuthServer(t, ["tcp://127.0.0.1:0", `unix:${join(tempDir(t), "throttle.sock")}`], {
    auth: {
      credentials: serverCredentials,
      throttle: { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 5000, maxQueueMs: 2500 },
    },
  });
  const [tcp, unix] = server.addresses as [string, string];
  const wrong: ChannelAuthOptions = { name: "alice", key: WRONG_KEY };

  // The free failures, one after the other.
  for (let n = 0; n < 3; n++) t.is(await attempt(tcp, wrong), "refused: authentication failed");

  // Now four wrong attempts from the same address at once, then one right and one wrong from the unix peer.
  const order: string[] = [];
  const record = (label: string) => (outcome: string) => {
    order.push(`${label} ${outcome}`);
    return outcome;
  };
  const tcpAttempts = [1, 2, 3, 4].map((n) => attempt(tcp, wrong).then(record(`tcp${n}`)));
  const unixAttempts = [attempt(unix, { name: "alice", key: ALICE_KEY }).then(record("unix-right")), attempt(unix, wrong).then(record("unix-wrong"))];
  const outcomes = await Promise.all(tcpAttempts);
  await Promise.all(unixAttempts);

  // The first of the four is checked after its delay; it failed, which doubled the next delay past the queue limit.
  const checked = outcomes.filter((outcome) => outcome === "refused: authentication failed");
  const unchecked = outcomes.filter((outcome) => outcome === "refused: too many failed authentication attempts; retry later");
  t.is(checked.length, 1, outcomes.join(" | "));
  t.is(unchecked.length, 3, outcomes.join(" | "));
  // Order: the unchecked refusals and both unix verdicts come before the delayed tcp verdict.
  t.regex(order.at(-1)!, /^tcp\d refused: authentication failed$/, order.join(" | "));
  t.true(order.includes("unix-right ok alice"));
  t.true(order.includes("unix-wrong refused: authentication failed"));

  const reasons = failures.map((info) => info.reason);
  t.is(reasons.filter((reason) => reason === AuthFailureReason.THROTTLED).length, 3);
  t.is(reasons.filter((reason) => reason === AuthFailureReason.WRONG_SECRET).length, 3 + 1 + 1);
  t.true(failures.filter((info) => info.reason === AuthFailureReason.THROTTLED).every((info) => info.peer.startsWith("tcp://127.0.0.1:")));
  assertNoSecret(t, [...order, ...failures.map((info) => JSON.stringify(info))]);
});

test("failures are counted per remote host, not per port; every unix peer of a socket shares one key", (t) => {
  t.is(throttleKey("tcp://10.0.0.9:5555"), "ip:10.0.0.9");
  t.is(throttleKey("tcp://10.0.0.9:41234"), "ip:10.0.0.9");
  t.is(throttleKey("tcp://[::1]:7000"), "ip:::1");
  t.is(throttleKey("udp://127.0.0.1:9"), "ip:127.0.0.1");
  t.is(throttleKey("unix:/run/flightd.sock"), "unix:/run/flightd.sock");
  t.is(throttleKey("unix:@flightd"), "unix:@flightd");
});
