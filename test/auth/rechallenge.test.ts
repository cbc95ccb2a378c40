import test from "ava";
import {
  AuthFailureReason,
  AuthStepType,
  clientAuthGuard,
  clientHandshake,
  decodeAuthMessage,
  encodeAuthMessage,
  serverAuthGuard,
  serverHandshake,
  type AuthFailure,
  type AuthSuccess,
  type ClientHandshake,
  type ResponseMessageForTest,
  type ServerHandshake,
} from "./helpers/imports.js";
import { aliceAuth, serverAuth } from "./helpers/fixtures.js";
import { ManualClock, settle } from "./helpers/manual-clock.js";
import { pump } from "./helpers/pump.js";

async function authenticated(clock = new ManualClock(), rechallengeTimeoutMs = 5000) {
  const server = serverHandshake(serverAuth({ clock, rechallengeTimeoutMs }), { peerKey: "p", peerAddress: "tcp://10.1.1.1:9" });
  const client = clientHandshake(aliceAuth({ clock }));
  const result = await pump(server, client);
  if (result.server.done === undefined) throw new Error("setup handshake failed");
  return { server, client, clock, transcript: result.transcript };
}

function answer(server: ServerHandshake, client: ClientHandshake) {
  const step = client.receive(server.rechallenge());
  if (step.send === undefined) throw new Error(`client did not answer: ${step}`);
  return step.send;
}

test("re-challenges are answered and accepted, any number of times, each with a fresh challenge", async (t) => {
  const { server, client } = await authenticated();
  const seen = new Set<string>();
  for (let round = 0; round < 5; round++) {
    const challengeBody = server.rechallenge();
    t.true(server.rechallengePending);
    const challenge = decodeAuthMessage(challengeBody);
    t.is(challenge.step, AuthStepType.RECHALLENGE);
    seen.add(Buffer.from((challenge as { challenge: Uint8Array }).challenge).toString("hex"));
    const reply = client.receive(challengeBody);
    t.is(decodeAuthMessage(reply.send!).step, AuthStepType.REANSWER);
    t.is(reply.done, undefined);
    const verdict = await server.receive(reply.send!);
    t.deepEqual(verdict.toJSON(), {});
    t.false(server.rechallengePending);
    t.is(server.state, "authenticated");
    t.is(client.state, "authenticated");
  }
  t.is(seen.size, 5);
  t.throws(() => serverHandshake(serverAuth(), { peerKey: "p" }).rechallenge(), {
    message: /rechallenge\(\) called in state new/,
  });
});

test("only one re-challenge is pending at a time", async (t) => {
  const { server } = await authenticated();
  server.rechallenge();
  t.throws(() => server.rechallenge(), { message: /already pending/ });
});

test("a wrong answer to a re-challenge ends the session", async (t) => {
  const { server } = await authenticated();
  const challenge = decodeAuthMessage(server.rechallenge()) as { id: number };
  const forged = encodeAuthMessage({ step: AuthStepType.REANSWER, id: challenge.id, mac: new Uint8Array(32).fill(7) });
  const step = await server.receive(forged);
  t.is(step.fail?.reason, AuthFailureReason.WRONG_SECRET);
  t.is(step.fail?.message, "UNAUTHENTICATED: re-authentication failed");
  t.regex(step.fail!.logMessage, /^CHAP re-authentication failed: peer tcp:\/\/10\.1\.1\.1:9 as "alice": WRONG_SECRET/);
  t.is(server.state, "failed");
  t.is(decodeAuthMessage(step.send!).step, AuthStepType.FAILURE);
});

test("a re-challenge answer is valid once, for the pending re-challenge only", async (t) => {
  const { server, client } = await authenticated();
  const first = answer(server, client);
  t.deepEqual((await server.receive(first)).toJSON(), {});
  // The same answer again, with nothing pending.
  const replay = await server.receive(first);
  t.is(replay.fail?.reason, AuthFailureReason.REPLAYED);

  const other = await authenticated();
  const old = answer(other.server, other.client);
  await other.server.receive(old);
  other.server.rechallenge();
  // The previous round's answer to the new round.
  const stale = await other.server.receive(old);
  t.is(stale.fail?.reason, AuthFailureReason.REPLAYED);
  t.regex(stale.fail!.logMessage, /answered re-challenge \d+, but the pending one is \d+/);
});

test("an answer from another session does not verify (answers are bound to the session id)", async (t) => {
  const a = await authenticated();
  const b = await authenticated();
  // Same client key, same server: only the session differs. Feed b's client a's challenge.
  const challengeBody = a.server.rechallenge();
  const crossAnswer = b.client.receive(challengeBody).send!;
  const step = await a.server.receive(crossAnswer);
  t.is(step.fail?.reason, AuthFailureReason.WRONG_SECRET);
});

test("the server's proof can never serve as a client's answer (direction-bound MACs)", async (t) => {
  const { server, transcript } = await authenticated();
  const success = decodeAuthMessage(transcript[2]!.body) as { proof: Uint8Array };
  const challenge = decodeAuthMessage(server.rechallenge()) as { id: number };
  const step = await server.receive(encodeAuthMessage({ step: AuthStepType.REANSWER, id: challenge.id, mac: success.proof }));
  t.is(step.fail?.reason, AuthFailureReason.WRONG_SECRET);
  // And the client's RESPONSE MAC is not a valid re-answer either.
  const again = await authenticated();
  const response = decodeAuthMessage(again.transcript[1]!.body) as ResponseMessageForTest;
  const c2 = decodeAuthMessage(again.server.rechallenge()) as { id: number };
  const reused = await again.server.receive(encodeAuthMessage({ step: AuthStepType.REANSWER, id: c2.id, mac: response.mac }));
  t.is(reused.fail?.reason, AuthFailureReason.WRONG_SECRET);
});

test("a client refuses a re-challenge that is a nonce it sent (reflection)", async (t) => {
  const { client, transcript } = await authenticated();
  const response = decodeAuthMessage(transcript[1]!.body) as ResponseMessageForTest;
  const step = client.receive(encodeAuthMessage({ step: AuthStepType.RECHALLENGE, id: 99, challenge: response.clientNonce }));
  t.is(step.fail?.reason, AuthFailureReason.REFLECTED);
  t.is(client.state, "failed");
});

test("a missing answer fails the session at the re-challenge deadline, and a late one is refused", async (t) => {
  const { server, client, clock } = await authenticated(new ManualClock(), 2000);
  const body = server.rechallenge();
  t.is(server.deadline, clock.now() + 2000);
  clock.time += 1999;
  t.deepEqual(server.expire().toJSON(), {});
  clock.time += 1;
  const late = client.receive(body).send!;
  const step = await server.receive(late);
  t.is(step.fail?.reason, AuthFailureReason.TIMEOUT);
  t.is(step.fail?.message, "UNAUTHENTICATED: re-authentication timed out");

  const other = await authenticated(clock, 2000);
  other.server.rechallenge();
  clock.time += 2000;
  const expired = other.server.expire();
  t.is(expired.fail?.reason, AuthFailureReason.TIMEOUT);
  t.regex(expired.fail!.logMessage, /did not answer a re-challenge in time/);
});

/** Two guards wired back to back (delivery on the next tick, as a socket would). */
function wire(clock: ManualClock, options: { rechallengeIntervalMs: number; rechallengeTimeoutMs: number; clientAnswers?: () => boolean }) {
  const events: string[] = [];
  const results: { serverDone?: AuthSuccess; clientDone?: AuthSuccess; serverFail?: AuthFailure; clientFail?: AuthFailure } = {};
  const auth = serverAuth({ clock, ...options });
  const toServer = (body: Uint8Array) => setImmediate(() => server.receive(body));
  const toClient = (body: Uint8Array) =>
    setImmediate(() => {
      const step = decodeAuthMessage(body).step;
      events.push(`client<-${AuthStepType[step]}`);
      if (step === AuthStepType.RECHALLENGE && options.clientAnswers?.() === false) return;
      client.receive(body);
    });
  const server = serverAuthGuard(auth, { peerKey: "p" }, {
    send: toClient,
    authenticated: (success) => (results.serverDone = success),
    failed: (failure) => (results.serverFail = failure),
  });
  const client = clientAuthGuard(aliceAuth({ clock }), {
    send: toServer,
    authenticated: (success) => (results.clientDone = success),
    failed: (failure) => (results.clientFail = failure),
  });
  return { server, client, events, results };
}

test("guards: periodic re-challenges every interval, answered while frames keep flowing", async (t) => {
  const clock = new ManualClock();
  const { server, client, events, results } = wire(clock, { rechallengeIntervalMs: 60_000, rechallengeTimeoutMs: 5000 });
  client.start();
  server.start();
  await clock.advance(0);
  t.is(results.serverDone?.identity, "alice");
  t.is(results.clientDone?.identity, "flightd");
  t.true(server.authenticated && client.authenticated);
  t.is(server.identity, "alice");
  for (let minute = 1; minute <= 4; minute++) {
    await clock.advance(60_000);
    t.true(server.admit(1), "calls are admitted during a re-challenge");
    t.true(client.admit(2));
  }
  t.deepEqual(events, ["client<-CHALLENGE", "client<-SUCCESS", ...Array(4).fill("client<-RECHALLENGE")]);
  t.is(results.serverFail, undefined);
  t.true(server.authenticated);
  server.close();
  client.close();
  t.is(clock.pending, 0);
});

test("guards: a client that stops answering is cut off at the re-challenge timeout", async (t) => {
  const clock = new ManualClock();
  let answering = true;
  const { server, client, results } = wire(clock, {
    rechallengeIntervalMs: 1000,
    rechallengeTimeoutMs: 300,
    clientAnswers: () => answering,
  });
  client.start();
  server.start();
  await clock.advance(2500);
  t.true(server.authenticated);
  answering = false;
  // The re-challenge of t=3000 goes unanswered; its deadline is t=3300.
  await clock.advance(799);
  t.true(server.authenticated, "the deadline has not passed yet");
  await clock.advance(1);
  t.is(results.serverFail?.reason, AuthFailureReason.TIMEOUT);
  t.false(server.authenticated);
  t.false(server.admit(1));
  await settle();
  // The FAILURE went to the client, which reports it.
  t.is(results.clientFail?.reason, AuthFailureReason.REJECTED);
  t.is(results.clientFail?.message, "UNAUTHENTICATED: re-authentication timed out");
  t.is(clock.pending, 0);
});

test("guards: handshake timeout when the client never answers; frames before success are refused", async (t) => {
  const clock = new ManualClock();
  const auth = serverAuth({ clock, handshakeTimeoutMs: 500 });
  const sent: number[] = [];
  let failure: AuthFailure | undefined;
  const guard = serverAuthGuard(auth, { peerKey: "p" }, {
    send: (body) => sent.push(decodeAuthMessage(body).step),
    authenticated: () => t.fail("nobody authenticated"),
    failed: (f) => (failure = f),
  });
  guard.start();
  await clock.advance(499);
  t.is(failure, undefined);
  await clock.advance(1);
  t.is(failure?.reason, AuthFailureReason.TIMEOUT);
  t.deepEqual(sent, [AuthStepType.CHALLENGE, AuthStepType.FAILURE]);

  let refused: AuthFailure | undefined;
  const other = serverAuthGuard(auth, { peerKey: "p" }, { send: () => {}, authenticated: () => {}, failed: (f) => (refused = f) });
  other.start();
  t.false(other.admit(1));
  t.is(refused?.reason, AuthFailureReason.UNEXPECTED_FRAME);
  t.false(other.admit(1));
  t.is(clock.pending, 0);

  // Client side: no CHALLENGE within its timeout.
  let clientFailure: AuthFailure | undefined;
  const lonely = clientAuthGuard(aliceAuth({ clock, handshakeTimeoutMs: 700 }), {
    send: () => {},
    authenticated: () => {},
    failed: (f) => (clientFailure = f),
  });
  lonely.start();
  await clock.advance(700);
  t.is(clientFailure?.reason, AuthFailureReason.TIMEOUT);
  t.regex(clientFailure!.logMessage, /no CHALLENGE from the server within 700 ms/);
});

test("guards: rechallengeIntervalMs 0 turns re-challenges off", async (t) => {
  const clock = new ManualClock();
  const { server, client, events } = wire(clock, { rechallengeIntervalMs: 0, rechallengeTimeoutMs: 100 });
  client.start();
  server.start();
  await clock.advance(10 * 60_000);
  t.deepEqual(events, ["client<-CHALLENGE", "client<-SUCCESS"]);
  t.is(clock.pending, 0);
  server.close();
  client.close();
});

test("every truncation of a RECHALLENGE or REANSWER fails the receiving side as MALFORMED", async (t) => {
  const sample = await authenticated();
  const challengeBody = sample.server.rechallenge();
  const answerBody = sample.client.receive(challengeBody).send!;
  for (let length = 0; length < challengeBody.length; length++) {
    const { client } = await authenticated();
    t.is(client.receive(challengeBody.subarray(0, length)).fail?.reason, AuthFailureReason.MALFORMED, `RECHALLENGE cut at ${length}`);
  }
  for (let length = 0; length < answerBody.length; length++) {
    const { server } = await authenticated();
    server.rechallenge();
    const step = await server.receive(answerBody.subarray(0, length));
    t.is(step.fail?.reason, AuthFailureReason.MALFORMED, `REANSWER cut at ${length}`);
    t.is(server.state, "failed");
  }
});
