// Shared pieces of the authentication tests (test/runtime/auth-*.test.ts): credentials whose
// secrets and keys the redaction checks search for, a service that tells handlers' view of the
// peer, servers with auth torn down with the test, and raw-peer helpers for AUTH frames.
import type { ExecutionContext } from "ava";
import {
  AuthKey,
  createServer,
  type AuthFailureInfo,
  type CallContext,
  type ChannelAuthOptions,
  type Server,
  type ServerOptions,
  type ServiceHandlers,
} from "msf";
import { FrameKind, encodeFrame, type OutgoingHeader } from "msf/internal";
import { AuthStepType, decodeAuthMessage, type AuthMessage } from "../../runtime/auth/index.js";
import type { QueryFlightResponse } from "./flight-messages.js";
import { testService } from "./flight-service.js";
import type { RawPeer, ReceivedFrame } from "./raw-peer.js";
import { waitFor } from "./runtime-fixtures.js";

export const ALICE_SECRET = "alice-correct-horse-battery";
export const BOB_SECRET = "bob-s3cret-words";
export const WRONG_SECRET = "alice-wrong-horse";
export const MALLORY_SECRET = "mallory-guess";

/** Derived once per test process (scrypt ~70 ms each): clients and servers use these `{ key }`s. */
export const ALICE_KEY = AuthKey.deriveHex("alice", ALICE_SECRET);
export const BOB_KEY = AuthKey.deriveHex("bob", BOB_SECRET);
export const WRONG_KEY = AuthKey.deriveHex("alice", WRONG_SECRET);
export const MALLORY_KEY = AuthKey.deriveHex("mallory", MALLORY_SECRET);

/** Every secret and key the tests use, in the forms a leak could take. */
export function secretForms(): string[] {
  const forms: string[] = [];
  for (const secret of [ALICE_SECRET, BOB_SECRET, WRONG_SECRET, MALLORY_SECRET]) forms.push(secret);
  for (const key of [ALICE_KEY, BOB_KEY, WRONG_KEY, MALLORY_KEY]) {
    const bytes = Buffer.from(key, "hex");
    forms.push(key, key.toUpperCase(), bytes.toString("base64"), bytes.toString("base64url"), [...bytes].join(","));
  }
  return forms;
}

/** Server credentials: alice by secret (derived at createServer), bob by key. */
export const serverCredentials = { alice: ALICE_SECRET, bob: { key: BOB_KEY } };

export const alice: ChannelAuthOptions = { name: "alice", key: ALICE_KEY };

/**
 * auth.svc: whoami answers errmsg = request name, flightsInfo = context.peer.identity (or
 * "(none)"); wait does the same after Number(departureCity) ms.
 */
export const AuthService = testService("auth.svc", ["whoami", "wait"] as const);

function whoami(name: string, context: CallContext): QueryFlightResponse {
  return { errcode: 0, errmsg: name, flightsInfo: context.peer.identity ?? "(none)" };
}

export const authHandlers: ServiceHandlers<typeof AuthService> = {
  whoami: (request, context) => whoami(request.name, context),
  wait: (request, context) =>
    new Promise((resolve) => setTimeout(() => resolve(whoami(request.name, context)), Number(request.departureCity))),
};

export interface AuthServer {
  readonly server: Server;
  /** What the server reported through onAuthFailure, in order. */
  readonly failures: AuthFailureInfo[];
}

/** Starts a server with AuthService and `auth` (default: serverCredentials); closed when the test ends. */
export async function startAuthServer(
  t: ExecutionContext,
  listen: string[],
  options: Omit<ServerOptions, "listen" | "onAuthFailure"> = { auth: { credentials: serverCredentials, serverName: "flightd" } },
): Promise<AuthServer> {
  const failures: AuthFailureInfo[] = [];
  const server = createServer({ listen, ...options, onAuthFailure: (info) => failures.push(info) });
  server.addService(AuthService, authHandlers);
  await server.start();
  t.teardown(() => server.close({ graceMs: 0 }));
  return { server, failures };
}

const AUTH_HEADER: OutgoingHeader = { kind: FrameKind.AUTH, codec: 0, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0 };

/** One AUTH frame carrying `body`. */
export function authFrame(body: Uint8Array): Uint8Array {
  return encodeFrame(AUTH_HEADER, body);
}

/** Waits until `peer` has received at least `count` frames; returns the `count`th. */
export async function frameAt(peer: RawPeer, count: number, timeoutMs = 5000): Promise<ReceivedFrame> {
  await waitFor(() => peer.frames.length >= count, timeoutMs, `frame ${count} from the server`);
  return peer.frames[count - 1]!;
}

/** The AUTH message a frame carries (fails if it is another kind). */
export function authMessage(frame: ReceivedFrame): AuthMessage {
  if (frame.header.kind !== FrameKind.AUTH) throw new Error(`expected an AUTH frame, got kind ${frame.header.kind}`);
  return decodeAuthMessage(frame.body);
}

/** The steps of the AUTH frames `peer` received, by name ("CHALLENGE", "FAILURE", ...). */
export function authSteps(peer: RawPeer): string[] {
  return peer.frames.filter((frame) => frame.header.kind === FrameKind.AUTH).map((frame) => AuthStepType[decodeAuthMessage(frame.body).step]!);
}

/** Resolves once `peer`'s socket closed, or rejects after `timeoutMs`. */
export function closedWithin(peer: RawPeer, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not close the connection within ${timeoutMs} ms`)), timeoutMs);
    void peer.closed.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Asserts that no secret or key of these tests appears in any of `texts` (which must not be empty). */
export function assertNoSecret(t: ExecutionContext, texts: readonly string[]): void {
  t.true(texts.length > 0, "there is something to search");
  const forms = secretForms();
  const leaks = texts.filter((text) => forms.some((form) => text.includes(form))).map((text) => text.slice(0, 300));
  t.deepEqual(leaks, [], "no secret or key in these texts");
}
