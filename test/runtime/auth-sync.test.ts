// Blocking calls (Channel.unarySync) with auth, against a server with auth in a child process:
// the channel's auth options reach the blocking engine (the worker thread gets them by structured
// clone, as the derived key), and every outcome is the async channel's.
import test, { type ExecutionContext } from "ava";
import { join } from "node:path";
import { Code, createChannel, RpcError, type Channel, type ChannelOptions } from "msf";
import { ClientAuth } from "../../runtime/auth/index.js";
import { workerAuthOptions } from "../../runtime/client/channel-options.js";
import { ALICE_KEY, ALICE_SECRET, AuthService, WRONG_SECRET, alice, assertNoSecret } from "../helpers/auth-fixtures.js";
import { spawnScript } from "../helpers/child.js";
import { request, tempDir } from "../helpers/runtime-fixtures.js";

const { whoami } = AuthService.methods;

/** Starts the auth server process for this test; resolves with its [unix, tcp] addresses. */
async function authPeer(t: ExecutionContext): Promise<[string, string]> {
  const child = spawnScript(t, "test/helpers/auth-peer.ts", [`unix:${join(tempDir(t), "sync.sock")}`, "tcp://127.0.0.1:0"]);
  const unix = (await child.line(/^listening (unix:\S+)$/))[1]!;
  const tcp = (await child.line(/^listening (tcp:\S+)$/))[1]!;
  return [unix, tcp];
}

/**
 * A channel whose blocking calls use `engine`: "auto" lets the runtime choose (the native engine
 * when its addon is built), "worker" forces the worker thread (MSF_SYNC_IMPL is read when the
 * channel's blocking caller is created, at its first blocking call, made right here).
 */
function syncChannel(t: ExecutionContext, target: string, options: ChannelOptions, engine: "auto" | "worker"): { channel: Channel; first: () => unknown } {
  const channel = createChannel(target, { timeoutMs: 10_000, ...options });
  t.teardown(() => channel.close());
  const first = (): unknown => {
    const saved = process.env.MSF_SYNC_IMPL;
    process.env.MSF_SYNC_IMPL = engine;
    try {
      return channel.unarySync(whoami, request("first"));
    } finally {
      if (saved === undefined) delete process.env.MSF_SYNC_IMPL;
      else process.env.MSF_SYNC_IMPL = saved;
    }
  };
  return { channel, first };
}

function syncError(t: ExecutionContext, call: () => unknown): RpcError {
  const error = t.throws(call, { instanceOf: RpcError });
  return error!;
}

test("blocking calls authenticate over unix and tcp, on either engine; failures are UNAUTHENTICATED", async (t) => {
  const [unix, tcp] = await authPeer(t);
  // A worker thread takes about a second to start from source: the worker engine is run on one target.
  const runs = [
    [unix, "auto"],
    [tcp, "auto"],
    [unix, "worker"],
  ] as const;
  for (const [target, engine] of runs) {
    const where = `${target} (${engine})`;
    const good = syncChannel(t, target, { auth: { name: "alice", secret: ALICE_SECRET } }, engine);
    t.deepEqual(good.first(), { errcode: 0, errmsg: "first", flightsInfo: "alice" }, where);
    t.is(good.channel.unarySync(whoami, request("second")).flightsInfo, "alice", where);
    // The same channel's async calls authenticate on their own connection.
    t.is((await good.channel.unary(whoami, request("async"))).flightsInfo, "alice", where);

    const bad = syncChannel(t, target, { auth: { name: "alice", secret: WRONG_SECRET } }, engine);
    const refused = syncError(t, bad.first);
    t.is(refused.code, Code.UNAUTHENTICATED, where);
    t.regex(refused.message, /authentication failed/, where);
    // Within the retry delay the next blocking call fails the same way, at once.
    const again = syncError(t, () => bad.channel.unarySync(whoami, request("again")));
    t.is(again.code, Code.UNAUTHENTICATED, where);
    t.is(again.rawMessage, refused.rawMessage, where);

    const plain = syncChannel(t, target, {}, engine);
    const unauthenticated = syncError(t, plain.first);
    t.is(unauthenticated.code, Code.UNAUTHENTICATED, where);
    t.regex(unauthenticated.message, /requires authentication/, where);
    assertNoSecret(t, [refused, again, unauthenticated].flatMap((error) => [error.message, error.stack ?? ""]));
  }
});

test("blocking-call options with auth are plain data (structured-clone safe); the worker gets the key, not the secret", (t) => {
  const options: ChannelOptions = { timeoutMs: 100, auth: { ...alice, mutual: true, serverName: "flightd" } };
  t.deepEqual(structuredClone(options), options);
  const forWorker = workerAuthOptions(new ClientAuth({ name: "alice", secret: ALICE_SECRET, serverName: "flightd" }));
  t.deepEqual(structuredClone(forWorker), forWorker);
  t.deepEqual(forWorker, { name: "alice", key: new Uint8Array(Buffer.from(ALICE_KEY, "hex")), mutual: true, handshakeTimeoutMs: 10_000, serverName: "flightd" });
});
