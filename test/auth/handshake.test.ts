import test from "ava";
import {
  AuthFailureReason,
  AuthStepType,
  Code,
  clientHandshake,
  decodeAuthMessage,
  encodeAuthMessage,
  serverHandshake,
  Session,
  type ResponseMessageForTest,
} from "./helpers/imports.js";
import { aliceAuth, bobAuth, serverAuth } from "./helpers/fixtures.js";
import { ManualClock } from "./helpers/manual-clock.js";
import { pump } from "./helpers/pump.js";

const FAILED = "UNAUTHENTICATED: authentication failed";

test("a client with the right key authenticates; both sides share the session", async (t) => {
  const auth = serverAuth();
  const server = serverHandshake(auth, { peerKey: "10.0.0.1", peerAddress: "tcp://10.0.0.1:4000" });
  const client = clientHandshake(aliceAuth());
  const { server: s, client: c, transcript } = await pump(server, client);
  t.is(s.done?.identity, "alice");
  t.is(c?.done?.identity, "flightd");
  t.is(server.state, "authenticated");
  t.is(client.state, "authenticated");
  t.is(server.identity, "alice");
  t.deepEqual(
    transcript.map((entry) => AuthStepType[decodeAuthMessage(entry.body).step]),
    ["CHALLENGE", "RESPONSE", "SUCCESS"],
  );
  const serverSession = s.done!.session;
  const clientSession = c!.done!.session;
  t.is(serverSession.id, clientSession.id);
  t.deepEqual(Session.keyOf(serverSession), Session.keyOf(clientSession));
  // Datagram tags verify across, and only in their own direction.
  const datagram = new TextEncoder().encode("seq 17 payload");
  const tag = clientSession.tag("client-to-server", datagram);
  t.is(tag.length, 16);
  t.true(serverSession.verify("client-to-server", tag, datagram));
  t.false(serverSession.verify("server-to-client", tag, datagram));
  t.false(serverSession.verify("client-to-server", tag, new TextEncoder().encode("seq 18 payload")));
});

test("mutual mode: the server proves it knows the client's key; without it no proof is sent", async (t) => {
  const mutual = await pump(serverHandshake(serverAuth(), { peerKey: "p" }), clientHandshake(bobAuth({ mutual: true })));
  t.is(mutual.client?.done?.identity, "flightd");
  const success = decodeAuthMessage(mutual.transcript[2]!.body);
  t.is(success.step === AuthStepType.SUCCESS && success.proof.length, 32);

  const oneWay = await pump(serverHandshake(serverAuth(), { peerKey: "p" }), clientHandshake(bobAuth({ mutual: false })));
  t.is(oneWay.client?.done?.identity, "flightd");
  const plain = decodeAuthMessage(oneWay.transcript[2]!.body);
  t.is(plain.step === AuthStepType.SUCCESS && plain.proof.length, 0);
});

test("two handshakes of the same client never share challenge, nonce or session", async (t) => {
  const first = await pump(serverHandshake(serverAuth(), { peerKey: "p" }), clientHandshake(aliceAuth()));
  const second = await pump(serverHandshake(serverAuth(), { peerKey: "p" }), clientHandshake(aliceAuth()));
  const challenge = (r: typeof first) => decodeAuthMessage(r.transcript[0]!.body) as { id: number; challenge: Uint8Array };
  t.not(challenge(first).id, challenge(second).id);
  t.notDeepEqual(challenge(first).challenge, challenge(second).challenge);
  t.is(challenge(first).challenge.length, 32);
  t.not(first.server.done!.session.id, second.server.done!.session.id);
});

test("wrong secret and unknown name fail with the same message to the client and distinct log reasons", async (t) => {
  const wrong = await pump(
    serverHandshake(serverAuth(), { peerKey: "10.0.0.9", peerAddress: "tcp://10.0.0.9:5555" }),
    clientHandshake(aliceAuthWithWrongKey()),
  );
  const unknown = await pump(
    serverHandshake(serverAuth(), { peerKey: "10.0.0.9", peerAddress: "tcp://10.0.0.9:5556" }),
    clientHandshake(mallory()),
  );
  t.is(wrong.server.fail?.reason, AuthFailureReason.WRONG_SECRET);
  t.is(unknown.server.fail?.reason, AuthFailureReason.UNKNOWN_NAME);
  // The client learns nothing about which one it was.
  t.is(wrong.server.fail?.message, FAILED);
  t.is(unknown.server.fail?.message, FAILED);
  t.deepEqual(wrong.server.send, encodeAuthMessage({ step: AuthStepType.FAILURE, message: FAILED }));
  t.deepEqual(unknown.server.send, wrong.server.send);
  t.is(wrong.client?.fail?.reason, AuthFailureReason.REJECTED);
  t.is(wrong.client?.fail?.message, FAILED);
  t.is(unknown.client?.fail?.message, FAILED);
  const error = wrong.client!.fail!.toRpcError();
  t.is(error.code, Code.UNAUTHENTICATED);
  t.is(error.message, "[UNAUTHENTICATED] authentication failed");
  // The server's log names the peer, the claimed name and the reason.
  t.is(
    wrong.server.fail?.logMessage,
    'CHAP authentication failed: peer tcp://10.0.0.9:5555 as "alice": WRONG_SECRET: answered with a MAC that does not verify under the name\'s key',
  );
  t.regex(unknown.server.fail!.logMessage, /peer tcp:\/\/10\.0\.0\.9:5556 as "mallory": UNKNOWN_NAME/);
});

test("an answer from an earlier handshake is refused by a new one (replay)", async (t) => {
  const auth = serverAuth();
  const earlier = await pump(serverHandshake(auth, { peerKey: "p" }), clientHandshake(aliceAuth()));
  t.truthy(earlier.server.done);
  const recordedAnswer = earlier.transcript[1]!.body;

  const server = serverHandshake(auth, { peerKey: "attacker" });
  server.start();
  const replay = await server.receive(recordedAnswer);
  t.is(replay.fail?.reason, AuthFailureReason.REPLAYED);
  t.is(replay.fail?.message, FAILED);
  t.regex(replay.fail!.logMessage, /REPLAYED: answered challenge \d+, but the outstanding challenge is \d+/);

  // Patching the identifier to the new one does not help: the MAC covers the challenge itself.
  const fresh = serverHandshake(auth, { peerKey: "attacker" });
  const challenge = decodeAuthMessage(fresh.start());
  const answer = decodeAuthMessage(recordedAnswer) as ResponseMessageForTest;
  const patched = encodeAuthMessage({ ...answer, id: (challenge as { id: number }).id });
  t.is((await fresh.receive(patched)).fail?.reason, AuthFailureReason.WRONG_SECRET);
});

test("an answer is used once: a second copy on the same connection is a protocol error", async (t) => {
  const server = serverHandshake(serverAuth(), { peerKey: "p" });
  const client = clientHandshake(aliceAuth());
  const answer = client.receive(server.start()).send!;
  t.truthy((await server.receive(answer)).done);
  const again = await server.receive(answer);
  t.is(again.fail?.reason, AuthFailureReason.PROTOCOL);
  t.regex(again.fail!.logMessage, /sent RESPONSE in handshake state authenticated/);
  t.is(server.state, "failed");
});

test("a client refuses a challenge that is a nonce it sent itself (reflection)", async (t) => {
  // Client 1 answers a real challenge: its nonce is now on the wire.
  const server = serverHandshake(serverAuth(), { peerKey: "p" });
  const first = clientHandshake(aliceAuth());
  const answer = decodeAuthMessage(first.receive(server.start()).send!) as ResponseMessageForTest;
  // An attacker posing as a server sends that nonce back as its challenge, to a second connection.
  const reflected = encodeAuthMessage({
    step: AuthStepType.CHALLENGE,
    algorithm: 1,
    id: 1,
    challenge: answer.clientNonce,
    serverName: "flightd",
  });
  const second = clientHandshake(aliceAuth());
  const step = second.receive(reflected);
  t.is(step.fail?.reason, AuthFailureReason.REFLECTED);
  t.is(decodeAuthMessage(step.send!).step, AuthStepType.FAILURE);
  t.is(second.state, "failed");
});

test("a server refuses a client nonce equal to a challenge it issued (reflection)", async (t) => {
  const auth = serverAuth();
  const server = serverHandshake(auth, { peerKey: "p" });
  const challenge = decodeAuthMessage(server.start()) as { id: number; challenge: Uint8Array };
  const client = clientHandshake(aliceAuth());
  const honest = decodeAuthMessage(client.receive(encodeAuthMessage({ step: AuthStepType.CHALLENGE, algorithm: 1, id: challenge.id, challenge: challenge.challenge, serverName: "flightd" })).send!) as ResponseMessageForTest;
  const reflecting = encodeAuthMessage({ ...honest, clientNonce: challenge.challenge });
  const step = await server.receive(reflecting);
  t.is(step.fail?.reason, AuthFailureReason.REFLECTED);
  t.is(step.fail?.message, FAILED);
});

test("mutual mode: a client refuses a server that cannot prove it knows the client's key", async (t) => {
  const attempts: { name: string; proof: (answer: ResponseMessageForTest) => Uint8Array }[] = [
    { name: "no proof", proof: () => new Uint8Array(0) },
    { name: "random proof", proof: () => new Uint8Array(32).fill(0x5a) },
    // The client's own MAC sent back as the server's proof: role labels make it useless.
    { name: "the client's own answer", proof: (answer) => answer.mac },
  ];
  for (const attempt of attempts) {
    const client = clientHandshake(aliceAuth({ mutual: true }));
    const challenge = encodeAuthMessage({ step: AuthStepType.CHALLENGE, algorithm: 1, id: 42, challenge: new Uint8Array(32).fill(9), serverName: "flightd" });
    const answer = decodeAuthMessage(client.receive(challenge).send!) as ResponseMessageForTest;
    const step = client.receive(
      encodeAuthMessage({ step: AuthStepType.SUCCESS, sessionId: new Uint8Array(16).fill(1), proof: attempt.proof(answer) }),
    );
    t.is(step.fail?.reason, AuthFailureReason.SERVER_NOT_AUTHENTIC, attempt.name);
    t.is(step.fail?.message, "UNAUTHENTICATED: the server failed to prove its identity");
    t.is(client.state, "failed");
    t.is(client.session, undefined);
  }
  // A real server holding a different key for alice: it rejects her, she never accepts it.
  const impostor = serverAuth({ credentials: { alice: { key: "11".repeat(32) } } });
  const result = await pump(serverHandshake(impostor, { peerKey: "p" }), clientHandshake(aliceAuth()));
  t.is(result.server.fail?.reason, AuthFailureReason.WRONG_SECRET);
  t.is(result.client?.done, undefined);
});

test("a FAILURE from the server fails the client as REJECTED, carrying the server's text", (t) => {
  const client = clientHandshake(aliceAuth());
  const step = client.receive(encodeAuthMessage({ step: AuthStepType.FAILURE, message: "go away\u0007" }));
  t.is(step.fail?.reason, AuthFailureReason.REJECTED);
  t.is(step.fail?.message, "UNAUTHENTICATED: go away\u0007");
  t.is(step.send, undefined);
  t.regex(step.fail!.logMessage, /the server refused: "go away\?"/);
});

test("a configured serverName is enforced; an unknown algorithm is refused", (t) => {
  const challenge = (serverName: string, algorithm = 1) =>
    encodeAuthMessage({ step: AuthStepType.CHALLENGE, algorithm, id: 1, challenge: new Uint8Array(32).fill(3), serverName });
  const expectsBilling = clientHandshake(aliceAuth({ serverName: "billing" }));
  const step = expectsBilling.receive(challenge("flightd"));
  t.is(step.fail?.reason, AuthFailureReason.SERVER_NAME_MISMATCH);
  t.regex(step.fail!.logMessage, /calls itself "flightd", expected "billing"/);
  t.truthy(clientHandshake(aliceAuth({ serverName: "billing" })).receive(challenge("billing")).send);
  const md5 = clientHandshake(aliceAuth()).receive(challenge("flightd", 5));
  t.is(md5.fail?.reason, AuthFailureReason.PROTOCOL);
  t.regex(md5.fail!.logMessage, /algorithm 5/);
});

test("any frame other than AUTH before success ends the handshake on either side", async (t) => {
  const server = serverHandshake(serverAuth(), { peerKey: "p", peerAddress: "unix:/run/x.sock" });
  server.start();
  const step = server.unexpectedFrame(1);
  t.is(step.fail?.reason, AuthFailureReason.UNEXPECTED_FRAME);
  t.is(step.fail?.message, "UNAUTHENTICATED: authentication required before any other frame");
  t.deepEqual(decodeAuthMessage(step.send!), { step: AuthStepType.FAILURE, message: step.fail!.message });
  t.regex(step.fail!.logMessage, /peer unix:\/run\/x\.sock: UNEXPECTED_FRAME: sent a frame of kind 1 before authenticating/);
  // Terminal: later input repeats the failure and sends nothing more.
  const after = await server.receive(new Uint8Array([2]));
  t.is(after.fail, step.fail);
  t.is(after.send, undefined);

  const client = clientHandshake(aliceAuth());
  t.is(client.unexpectedFrame(2).fail?.reason, AuthFailureReason.UNEXPECTED_FRAME);

  // After success frames are welcome.
  const ok = serverHandshake(serverAuth(), { peerKey: "p" });
  const okClient = clientHandshake(aliceAuth());
  await pump(ok, okClient);
  t.is(ok.unexpectedFrame(1), ok.unexpectedFrame(1));
  t.deepEqual(ok.unexpectedFrame(1).toJSON(), {});
  t.deepEqual(okClient.unexpectedFrame(2).toJSON(), {});
});

test("steps in the wrong order are protocol errors", async (t) => {
  const server = serverHandshake(serverAuth(), { peerKey: "p" });
  t.is((await server.receive(new Uint8Array([2]))).fail?.reason, AuthFailureReason.PROTOCOL);

  const server2 = serverHandshake(serverAuth(), { peerKey: "p" });
  const challenge = server2.start();
  const echoed = await server2.receive(challenge);
  t.is(echoed.fail?.reason, AuthFailureReason.PROTOCOL);
  t.regex(echoed.fail!.logMessage, /sent CHALLENGE in handshake state challenged/);

  const client = clientHandshake(aliceAuth());
  const early = client.receive(encodeAuthMessage({ step: AuthStepType.SUCCESS, sessionId: new Uint8Array(16), proof: new Uint8Array(0) }));
  t.is(early.fail?.reason, AuthFailureReason.PROTOCOL);
  t.throws(() => server2.start(), { message: /start\(\) called in state failed/ });
});

test("unknown RESPONSE flags are a protocol error", async (t) => {
  const server = serverHandshake(serverAuth(), { peerKey: "p" });
  const answer = decodeAuthMessage(clientHandshake(aliceAuth()).receive(server.start()).send!) as ResponseMessageForTest;
  const step = await server.receive(encodeAuthMessage({ ...answer, flags: 0x81 }));
  t.is(step.fail?.reason, AuthFailureReason.PROTOCOL);
  t.regex(step.fail!.logMessage, /flags 0x81/);
});

test("every truncation of every real handshake body fails the receiving side as MALFORMED", async (t) => {
  const auth = serverAuth();
  const { transcript } = await pump(serverHandshake(auth, { peerKey: "p" }), clientHandshake(aliceAuth()));
  const [challenge, response, success] = transcript.map((entry) => entry.body) as [Uint8Array, Uint8Array, Uint8Array];
  for (let length = 0; length < response.length; length++) {
    const server = serverHandshake(auth, { peerKey: "p" });
    server.start();
    const step = await server.receive(response.subarray(0, length));
    t.is(step.fail?.reason, AuthFailureReason.MALFORMED, `RESPONSE cut at ${length}`);
    t.is(step.fail?.message, "UNAUTHENTICATED: malformed authentication message");
    t.is(decodeAuthMessage(step.send!).step, AuthStepType.FAILURE);
  }
  for (let length = 0; length < challenge.length; length++) {
    const step = clientHandshake(aliceAuth()).receive(challenge.subarray(0, length));
    t.is(step.fail?.reason, AuthFailureReason.MALFORMED, `CHALLENGE cut at ${length}`);
  }
  for (let length = 0; length < success.length; length++) {
    const client = clientHandshake(aliceAuth());
    client.receive(challenge);
    const step = client.receive(success.subarray(0, length));
    t.is(step.fail?.reason, AuthFailureReason.MALFORMED, `SUCCESS cut at ${length}`);
    t.regex(step.fail!.logMessage, /MALFORMED: malformed AUTH body: /);
  }
});

test("a handshake not completed in time fails with TIMEOUT; a late answer is refused", async (t) => {
  const clock = new ManualClock();
  const auth = serverAuth({ clock, handshakeTimeoutMs: 1000 });
  const server = serverHandshake(auth, { peerKey: "p" });
  const client = clientHandshake(aliceAuth({ clock, handshakeTimeoutMs: 1000 }));
  const answer = client.receive(server.start()).send!;
  t.is(server.deadline, clock.now() + 1000);
  clock.time += 999;
  t.deepEqual(server.expire().toJSON(), {});
  clock.time += 1;
  const late = await server.receive(answer);
  t.is(late.fail?.reason, AuthFailureReason.TIMEOUT);
  t.is(late.fail?.message, "UNAUTHENTICATED: authentication timed out");

  const waiting = serverHandshake(auth, { peerKey: "p" });
  waiting.start();
  clock.time += 1000;
  t.is(waiting.expire().fail?.reason, AuthFailureReason.TIMEOUT);
  const clientTimeout = client.expire();
  t.is(clientTimeout.fail?.reason, AuthFailureReason.TIMEOUT);
  t.regex(clientTimeout.fail!.logMessage, /no verdict from the server within 1000 ms/);
});

test("a client sending FAILURE is logged by the server as PEER_ABORTED, with its text quoted", async (t) => {
  const server = serverHandshake(serverAuth(), { peerKey: "p" });
  server.start();
  const step = await server.receive(encodeAuthMessage({ step: AuthStepType.FAILURE, message: "UNAUTHENTICATED: nope\n" }));
  t.is(step.fail?.reason, AuthFailureReason.PEER_ABORTED);
  t.is(step.send, undefined);
  t.regex(step.fail!.logMessage, /PEER_ABORTED: sent FAILURE: "UNAUTHENTICATED: nope\?"/);
});

function aliceAuthWithWrongKey() {
  return aliceAuth({ key: "22".repeat(32) });
}

function mallory() {
  return aliceAuth({ name: "mallory" });
}
