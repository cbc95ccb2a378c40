// CHAP on the native blocking-call engine: channels with an auth option, their blocking calls
// forced onto the native engine, against real msf servers (one requiring authentication, one
// without) in a child process (test/helpers/sync-native-peer.ts auth), over a unix socket and over
// the datagram transports (udp, netlink: the handshake, then tagged datagrams, driven by the
// calling thread). Every failure is also produced by the async path of the same channel: both must
// word it the same, so these are also the ordinary CHAP failure cases (wrong secret, unknown name,
// no auth, a server without auth, a wrong server name) of async channels over udp and netlink.
// Serial: the tests count the server's failed authentications.
import test, { type ExecutionContext } from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Channel, type ChannelOptions, Code, createChannel, RpcError } from "msf";
import { ALICE_KEY_HEX } from "../auth/helpers/fixtures.js";
import type { QueryFlightRequest } from "../helpers/flight-messages.js";
import { scriptService } from "../helpers/sync-native-service.js";
import { type NativePeer, startNativePeer } from "../helpers/sync-native-spawn.js";

process.env.MSF_SYNC_IMPL = "native";

const { echo, slow, stats } = scriptService.methods;
let dir = "";
const peers: NativePeer[] = [];
const channels: Channel[] = [];

type Kind = "unix" | "udp" | "netlink";
const kinds: Kind[] = ["unix", "udp", "netlink"];
/** Per transport: the server requiring authentication and the one without. */
const targets = new Map<Kind, { auth: string; open: string }>();

function listen(kind: Kind, name: string): string {
  switch (kind) {
    case "unix":
      return `unix:${join(dir, `${name}.sock`)}`;
    case "udp":
      return "udp://127.0.0.1:0";
    case "netlink":
      return "netlink://0";
  }
}

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), "msf-sync-native-auth-"));
  await Promise.all(
    kinds.map(async (kind) => {
      const peer = await startNativePeer(["auth", listen(kind, "auth"), listen(kind, "open")], 2);
      peers.push(peer);
      targets.set(kind, { auth: peer.addresses[0]!, open: peer.addresses[1]! });
    }),
  );
});

test.after.always(async () => {
  await Promise.all(channels.map((channel) => channel.close()));
  await Promise.all(peers.map((peer) => peer.kill()));
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

function channel(target: string, options: ChannelOptions): Channel {
  const created = createChannel(target, { timeoutMs: 5000, ...options });
  channels.push(created);
  return created;
}

function request(name: string, password = ""): QueryFlightRequest {
  return { name, password, departureCity: "sz", destinationCity: "xz" };
}

function throwsRpc(fn: () => unknown): RpcError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
  throw new Error("expected an RpcError, the call returned");
}

async function rejectsRpc(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
  throw new Error("expected an RpcError, the call resolved");
}

/** Failed authentications the server requiring it has seen (asked through the other server). */
function authFailures(openTarget: string): number {
  const probe = channel(openTarget, {});
  return (JSON.parse(probe.unarySync(stats, request("stats")).errmsg) as { authFailures: number }).authFailures;
}

/** The blocking call's error, checked against the async call's on the same channel: same code, same message. */
async function sameFailure(t: ExecutionContext, subject: Channel): Promise<RpcError> {
  const blocking = throwsRpc(() => subject.unarySync(echo, request("blocking")));
  const async = await rejectsRpc(subject.unary(echo, request("async")));
  t.is(blocking.code, async.code);
  t.is(blocking.rawMessage, async.rawMessage);
  return blocking;
}

for (const kind of kinds) {
  const target = (): { auth: string; open: string } => targets.get(kind)!;
  test.serial(`${kind}: a channel with the right key authenticates; calls keep flowing across re-challenges`, async (t) => {
    const alice = channel(target().auth, { auth: { name: "alice", key: ALICE_KEY_HEX, serverName: "flightd" } });
    t.deepEqual(alice.unarySync(echo, request("first")), { errcode: 0, errmsg: "first", flightsInfo: "identity alice" });
    // The server re-challenges every 100 ms and ends a session whose answer has not come within
    // 200 ms: this call gets its reply only if the client answers re-challenges while it waits.
    t.is(alice.unarySync(slow, request("slow", "600")).errmsg, "slow");
    t.is(alice.unarySync(echo, request("after")).errmsg, "after");
    // Idle, the blocking engine answers no re-challenge, and the server would count the session it
    // then ends as a failed authentication while the next test counts failures.
    await alice.close();
  });

  test.serial(`${kind}: a wrong key is UNAUTHENTICATED; calls right after fail the same way without a new handshake`, async (t) => {
    const mallory = channel(target().auth, { auth: { name: "bob", key: ALICE_KEY_HEX } });
    const before = authFailures(target().open);
    const error = await sameFailure(t, mallory);
    t.is(error.code, Code.UNAUTHENTICATED);
    t.is(error.rawMessage, `call to ${echo.fullName}: authentication failed (authenticating as "bob" with ${target().auth})`);
    t.is(authFailures(target().open), before + 2, "one failed handshake per engine");
    const again = throwsRpc(() => mallory.unarySync(echo, request("guess again")));
    t.is(again.rawMessage, error.rawMessage);
    t.is(authFailures(target().open), before + 2, "no handshake for the call right after");
  });

  test.serial(`${kind}: an unknown name is UNAUTHENTICATED with the same words as a wrong key`, async (t) => {
    const before = authFailures(target().open);
    const error = await sameFailure(t, channel(target().auth, { auth: { name: "mallory", key: ALICE_KEY_HEX } }));
    t.is(error.code, Code.UNAUTHENTICATED);
    t.is(error.rawMessage, `call to ${echo.fullName}: authentication failed (authenticating as "mallory" with ${target().auth})`);
    t.is(authFailures(target().open), before + 2, "the server saw both attempts fail");
  });

  test.serial(`${kind}: a channel without auth is told the server requires authentication`, async (t) => {
    const error = await sameFailure(t, channel(target().auth, {}));
    t.is(error.code, Code.UNAUTHENTICATED);
    t.is(error.rawMessage, `call to ${echo.fullName}: the server at ${target().auth} requires authentication: give the channel an auth option { name, secret }`);
  });

  test.serial(`${kind}: a channel with auth is refused by a server without authentication, before any handshake timeout`, async (t) => {
    // A handshake timeout longer than the test's: only the server's answer to HELLO can end these calls.
    const alice = channel(target().open, { auth: { name: "alice", key: ALICE_KEY_HEX, handshakeTimeoutMs: 600_000 }, timeoutMs: 600_000 });
    const error = await sameFailure(t, alice);
    t.is(error.code, Code.UNAUTHENTICATED);
    t.regex(error.rawMessage, /this server does not use authentication/);
  });

  test.serial(`${kind}: a server name other than the one expected is refused`, async (t) => {
    const alice = channel(target().auth, { auth: { name: "alice", key: ALICE_KEY_HEX, serverName: "elsewhere" } });
    const error = await sameFailure(t, alice);
    t.is(error.code, Code.UNAUTHENTICATED);
    t.is(error.rawMessage, `call to ${echo.fullName}: unexpected server name (authenticating as "alice" with ${target().auth})`);
  });
}
