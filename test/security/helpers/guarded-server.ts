// A server with CHAP on one address, for the attack tests: auth.svc of test/helpers/auth-fixtures.ts
// with handlers that record every request they run, failures reported through onAuthFailure
// collected in order, and a raw-link CHAP client (the auth core's own state machine driving a
// RawLink) for attacks that need a real authenticated connection.
import type { ExecutionContext } from "ava";
import { createServer, type AuthFailureInfo, type Server, type ServerAuthOptions } from "msf";
import { FrameKind, type OutgoingHeader } from "msf/internal";
import {
  AuthStepType,
  clientHandshake,
  createClientAuth,
  decodeAuthMessage,
  ServerAuth,
  type AuthMessage,
  type ClientHandshake,
  type Session,
} from "../../../runtime/auth/index.js";
import { ALICE_KEY, AuthService, BOB_KEY, authHandlers } from "../../helpers/auth-fixtures.js";
import type { LinkFrame, RawLink } from "./raw-link.js";

export interface GuardedServer {
  readonly server: Server;
  /** The bound address (port and port id resolved). */
  readonly address: string;
  /** onAuthFailure reports, in order. */
  readonly failures: AuthFailureInfo[];
  /** Names of the requests whose handler ran, in order. */
  readonly ran: string[];
}

/** alice and bob by derived key (no scrypt per server; deriving from secrets is tested in test/auth/). */
export const keyCredentials = { alice: { key: ALICE_KEY }, bob: { key: BOB_KEY } };

export const defaultAuth: ServerAuthOptions = { credentials: keyCredentials, serverName: "flightd" };

/** Starts auth.svc on `listen` with `auth` (default: serverCredentials, server name "flightd"); closed when the test ends. */
export async function startGuardedServer(t: ExecutionContext, listen: string, auth: ServerAuthOptions | ServerAuth = defaultAuth): Promise<GuardedServer> {
  const failures: AuthFailureInfo[] = [];
  const ran: string[] = [];
  const server = createServer({ listen: [listen], auth, onAuthFailure: (info) => failures.push(info) });
  server.addService(AuthService, {
    whoami: (request, context) => {
      ran.push(request.name);
      return authHandlers.whoami(request, context);
    },
    wait: (request, context) => {
      ran.push(request.name);
      return authHandlers.wait(request, context);
    },
  });
  await server.start();
  t.teardown(() => server.close({ graceMs: 0 }));
  return { server, address: server.addresses[0]!, failures, ran };
}

export const AUTH_HEADER: OutgoingHeader = { kind: FrameKind.AUTH, codec: 0, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0 };

export const aliceClientAuth = createClientAuth({ name: "alice", key: ALICE_KEY, serverName: "flightd" });

/** The AUTH message of a frame, or undefined for another kind. */
export function authOf(frame: LinkFrame): AuthMessage | undefined {
  return frame.header.kind === FrameKind.AUTH ? decodeAuthMessage(frame.body) : undefined;
}

/** The names of the AUTH steps `link` received, in order ("CHALLENGE", "FAILURE", ...). */
export function authSteps(link: RawLink): string[] {
  return link.frames.flatMap((frame) => {
    const message = authOf(frame);
    return message === undefined ? [] : [AuthStepType[message.step]!];
  });
}

/** The FAILURE message the server sent on `link` (waits for it). */
export async function failureMessage(link: RawLink, timeoutMs = 5000): Promise<string> {
  const frame = await link.waitFor((received) => authOf(received)?.step === AuthStepType.FAILURE, timeoutMs, "the server's FAILURE");
  return (authOf(frame) as Extract<AuthMessage, { step: AuthStepType.FAILURE }>).message;
}

/** Waits for the CHALLENGE on `link` and returns it decoded. */
export async function challengeOf(link: RawLink): Promise<Extract<AuthMessage, { step: AuthStepType.CHALLENGE }>> {
  const frame = await link.waitFor((received) => authOf(received)?.step === AuthStepType.CHALLENGE, 5000, "the CHALLENGE");
  return authOf(frame) as Extract<AuthMessage, { step: AuthStepType.CHALLENGE }>;
}

export interface Authenticated {
  /** The RESPONSE body sent (for replays). */
  readonly response: Uint8Array;
  readonly session: Session;
  readonly handshake: ClientHandshake;
}

/** Runs the handshake as alice over `link` and binds the session to it (datagram links tag from then on). */
export async function authenticate(link: RawLink): Promise<Authenticated> {
  const handshake = clientHandshake(aliceClientAuth);
  const challengeFrame = await link.waitFor((frame) => authOf(frame)?.step === AuthStepType.CHALLENGE, 5000, "the CHALLENGE");
  const response = handshake.receive(challengeFrame.body).send;
  if (response === undefined) throw new Error("alice's handshake produced no RESPONSE");
  link.send(AUTH_HEADER, response);
  const successFrame = await link.waitFor((frame) => authOf(frame)?.step === AuthStepType.SUCCESS || authOf(frame)?.step === AuthStepType.FAILURE, 5000, "the verdict");
  const verdict = handshake.receive(successFrame.body);
  if (verdict.done === undefined) throw new Error(`alice was not authenticated: ${verdict.fail?.logMessage ?? "no verdict"}`);
  link.bindSession(verdict.done.session);
  return { response, session: verdict.done.session, handshake };
}

/** Resolves once `link` is closed by the server; rejects after `timeoutMs`. */
export function closedWithin(link: RawLink, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not close ${link.target} link within ${timeoutMs} ms`)), timeoutMs);
    void link.closed.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
