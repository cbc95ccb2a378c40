import test from "ava";
import { Console } from "node:console";
import { Writable } from "node:stream";
import { format, inspect } from "node:util";
import {
  AuthKey,
  AuthStepType,
  clientAuthGuard,
  clientHandshake,
  createClientAuth,
  createServerAuth,
  decodeAuthMessage,
  serverAuthGuard,
  serverHandshake,
  Session,
  type ResponseMessageForTest,
} from "./helpers/imports.js";
import { ALICE_KEY_HEX, ALICE_SECRET, BOB_SECRET, CAROL_SECRET } from "./helpers/fixtures.js";
import { pump } from "./helpers/pump.js";

/** Every way a byte string could show up in text. */
function spellings(bytes: Uint8Array): string[] {
  const buffer = Buffer.from(bytes);
  const decimals = [...bytes.subarray(0, 8)];
  return [
    buffer.toString("hex"),
    buffer.toString("hex").toUpperCase(),
    buffer.toString("base64"),
    buffer.toString("base64url"),
    decimals.join(", "),
    decimals.join(","),
    [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" "),
  ];
}

/** Everything a log line could be made of, for one object. */
function renderings(value: unknown): string[] {
  const chunks: string[] = [];
  const sink = new Writable({ write: (chunk, _encoding, done) => (chunks.push(String(chunk)), done()) });
  const logger = new Console({ stdout: sink, stderr: sink });
  logger.log(value);
  logger.log("%o", value);
  logger.error("%O %s", value, value);
  logger.dir(value, { depth: 10, showHidden: true });
  return [
    ...chunks,
    inspect(value),
    inspect(value, { depth: Infinity, showHidden: true, getters: true }),
    format("%j", value),
    JSON.stringify(value) ?? "",
    String(value),
    `${value as string}`,
  ];
}

test("no secret, key, session key or MAC appears in any rendering of any object that holds one", async (t) => {
  const server = createServerAuth({
    credentials: { alice: ALICE_SECRET, bob: BOB_SECRET, carol: CAROL_SECRET },
    throttle: false,
  });
  const alice = createClientAuth({ name: "alice", secret: ALICE_SECRET });
  const serverSide = serverHandshake(server, { peerKey: "127.0.0.1" });
  const clientSide = clientHandshake(alice);
  const result = await pump(serverSide, clientSide);
  t.is(result.server.done?.identity, "alice");
  const session = result.server.done!.session;
  const response = decodeAuthMessage(result.transcript[1]!.body) as ResponseMessageForTest;
  const success = decodeAuthMessage(result.transcript[2]!.body) as { step: AuthStepType.SUCCESS; proof: Uint8Array };

  // A failed handshake too: its failure and log line.
  const wrong = await pump(
    serverHandshake(server, { peerKey: "127.0.0.1" }),
    clientHandshake(createClientAuth({ name: "carol", secret: `${CAROL_SECRET}!` })),
  );
  const wrongResponse = decodeAuthMessage(wrong.transcript[1]!.body) as ResponseMessageForTest;

  // A re-challenge answer.
  const reanswer = clientSide.receive(serverSide.rechallenge());
  const reanswerMac = (decodeAuthMessage(reanswer.send!) as { mac: Uint8Array }).mac;

  const forbidden = [
    ALICE_SECRET,
    CAROL_SECRET,
    `${CAROL_SECRET}!`,
    Buffer.from(BOB_SECRET).toString("utf8"),
    ...spellings(BOB_SECRET),
    ...spellings(AuthKey.bytesOf(alice.key)),
    ...spellings(AuthKey.bytesOf(server.credentials.get("carol")!)),
    ...spellings(Session.keyOf(session)),
    ...spellings(response.mac),
    ...spellings(success.proof),
    ...spellings(wrongResponse.mac),
    ...spellings(reanswerMac),
  ];
  t.is(ALICE_KEY_HEX, Buffer.from(AuthKey.bytesOf(alice.key)).toString("hex"));

  const guards = [
    serverAuthGuard(server, { peerKey: "p" }, { send: () => {}, authenticated: () => {}, failed: () => {} }),
    clientAuthGuard(alice, { send: () => {}, authenticated: () => {}, failed: () => {} }),
  ];
  const holders: Record<string, unknown> = {
    serverAuth: server,
    credentialStore: server.credentials,
    clientAuth: alice,
    authKey: alice.key,
    session,
    clientSession: result.client!.done!.session,
    serverHandshake: serverSide,
    clientHandshake: clientSide,
    responseStep: { step: clientHandshake(alice).receive(result.transcript[0]!.body) },
    successStep: result.server,
    reanswerStep: reanswer,
    failedStep: wrong.server,
    clientFailedStep: wrong.client,
    failure: wrong.server.fail,
    rpcError: wrong.client!.fail!.toRpcError(),
    logMessage: wrong.server.fail!.logMessage,
    serverGuard: guards[0],
    clientGuard: guards[1],
    nested: { server, alice, session, steps: [result.server, reanswer] },
  };
  let checked = 0;
  for (const [name, value] of Object.entries(holders)) {
    for (const text of renderings(value)) {
      for (const secret of forbidden) {
        if (text.includes(secret)) t.fail(`${name} leaks a secret in: ${text.slice(0, 200)}`);
        checked++;
      }
    }
  }
  t.true(checked > 1000);
  // The renderings still say something useful.
  t.regex(inspect(server), /ServerAuth .*"names":\["alice","bob","carol"\]/);
  t.regex(inspect(session), new RegExp(`Session \\{ id: '${session.id}', key: \\[redacted\\] \\}`));
  t.regex(inspect(result.server), /AuthStep \{"send":"\[\d+ bytes\]","done":\{"identity":"alice","session":\{"id":"[0-9a-f]{32}"\}\}\}/);
  t.is(String(alice.key), "AuthKey([redacted])");
  t.is(JSON.stringify({ key: alice.key }), '{"key":"[redacted]"}');
  for (const guard of guards) guard.close();
});
