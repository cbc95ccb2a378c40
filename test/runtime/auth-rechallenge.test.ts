// Periodic re-challenges on a live, busy connection between a real channel and server, watched
// through a frame proxy: calls in flight are not interrupted, the connection is not replaced.
import test, { type ExecutionContext } from "ava";
import { join } from "node:path";
import { createChannel } from "msf";
import { FrameKind } from "msf/internal";
import { AuthService, alice, serverCredentials, startAuthServer } from "../helpers/auth-fixtures.js";
import { frameProxy } from "../helpers/auth-proxy.js";
import { request, tempDir } from "../helpers/runtime-fixtures.js";

const { wait, whoami } = AuthService.methods;

type Kind = "unix" | "tcp";
const kinds: Kind[] = ["unix", "tcp"];

function listenAddress(t: ExecutionContext, kind: Kind, name: string): string {
  return kind === "unix" ? `unix:${join(tempDir(t), name)}` : "tcp://127.0.0.1:0";
}

for (const kind of kinds) {
  test(`${kind}: calls keep succeeding across several re-challenges of one connection (every 200 ms)`, async (t) => {
    const { server, failures } = await startAuthServer(t, [listenAddress(t, kind, "server.sock")], {
      auth: { credentials: serverCredentials, serverName: "flightd", rechallengeIntervalMs: 200, rechallengeTimeoutMs: 5000 },
    });
    const proxy = await frameProxy(listenAddress(t, kind, "proxy.sock"), server.addresses[0]!);
    t.teardown(() => proxy.close());
    const channel = createChannel(proxy.address, { timeoutMs: 10_000, auth: alice });
    t.teardown(() => channel.close());

    // One call that stays in flight for 1.5 s (several re-challenges), and short calls around it meanwhile.
    let longDone = false;
    const long = channel.unary(wait, request("long", { departureCity: "1500" })).finally(() => (longDone = true));
    let succeeded = 0;
    const errors: unknown[] = [];
    const lane = async (id: number): Promise<void> => {
      for (let n = 0; !longDone && n < 100_000; n++) {
        try {
          const reply = await channel.unary(whoami, request(`${id}.${n}`));
          if (reply.errmsg === `${id}.${n}` && reply.flightsInfo === "alice") succeeded++;
          else errors.push(new Error(`wrong reply ${JSON.stringify(reply)}`));
        } catch (error) {
          errors.push(error);
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    };
    await Promise.all([0, 1, 2, 3].map(lane));
    const longReply = await long;

    t.deepEqual([longReply.errmsg, longReply.flightsInfo], ["long", "alice"]);
    t.deepEqual(errors, []);
    t.true(succeeded > 4);
    t.is(proxy.connections, 1, "the same connection throughout");
    t.deepEqual(failures, []);
    const steps = proxy.frames.flatMap((frame) => (frame.step === undefined ? [] : [frame.step]));
    t.false(steps.includes("FAILURE"));
    // The handshake came first (HELLO and CHALLENGE cross on the wire: their order at the proxy is either).
    t.deepEqual(steps.slice(0, 2).sort(), ["CHALLENGE", "HELLO"]);
    t.deepEqual(steps.slice(2, 4), ["RESPONSE", "SUCCESS"]);
    const index = (match: (frame: (typeof proxy.frames)[number]) => boolean) => proxy.frames.findIndex(match);
    t.true(index((frame) => frame.step === "SUCCESS") < index((frame) => frame.kind === FrameKind.REQUEST), "no call before SUCCESS");
    // While the long call was in flight, the server re-challenged at least 3 times and each was answered.
    const sent = index((frame) => frame.kind === FrameKind.REQUEST && frame.method === wait.id);
    const answered = index((frame) => frame.kind === FrameKind.RESPONSE && frame.method === wait.id);
    const during = proxy.frames.slice(sent, answered);
    const rechallenges = during.filter((frame) => frame.step === "RECHALLENGE").length;
    t.true(rechallenges >= 3, `re-challenges during the long call: ${rechallenges}`);
    t.true(during.filter((frame) => frame.step === "REANSWER").length >= rechallenges - 1, "answered while it ran");
    // Short calls went on between the re-challenges too.
    t.true(during.filter((frame) => frame.kind === FrameKind.RESPONSE).length > rechallenges);
  });
}
