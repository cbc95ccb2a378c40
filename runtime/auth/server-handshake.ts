import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { AuthFailure, AuthFailureReason, PEER_MESSAGE_PREFIX, quoteForLog } from "./auth-failure.js";
import { AuthKey } from "./auth-key.js";
import {
  AuthAlgorithm,
  AuthMessageError,
  AuthStepType,
  decodeAuthMessage,
  encodeAuthMessage,
  NONCE_BYTES,
  ResponseFlags,
  SESSION_ID_BYTES,
  stepName,
  type ReanswerMessage,
  type ResponseMessage,
} from "./auth-messages.js";
import { AuthStep } from "./auth-step.js";
import { clientReanswerMac, clientResponseMac, macEquals, serverProofMac, sessionKey, type HandshakeTranscript } from "./chap-mac.js";
import { issuedChallenges } from "./recent-nonces.js";
import type { ServerAuth } from "./server-auth.js";
import { Session } from "./session.js";

export interface ServerHandshakeOptions {
  /**
   * The key failures are counted under for throttling: the remote IP address for tcp (not the
   * port, which an attacker changes per connection), the peer's uid (or "unix") for unix sockets.
   */
  readonly peerKey: string;
  /** How log lines name the peer ("tcp://10.0.0.5:41234"). Default: peerKey. */
  readonly peerAddress?: string;
}

/**
 * - new: start() not called yet.        - challenged: CHALLENGE sent, waiting for RESPONSE.
 * - verifying: RESPONSE checked, the (throttled) verdict not delivered yet.
 * - authenticated: SUCCESS sent; re-challenges may run.  - failed: terminal; close the connection.
 */
export type ServerHandshakeState = "new" | "challenged" | "verifying" | "authenticated" | "failed";

/**
 * The server's side of one connection's CHAP handshake: a pure state machine, AUTH bodies in,
 * AuthSteps out; it does no I/O and keeps no timers (ServerAuthGuard adds those).
 *
 * Contract for the caller: send start()'s body first; pass every AUTH body to receive() and act on
 * the step (send, then done/fail); until `state` is "authenticated" treat any other frame with
 * unexpectedFrame(). receive() returns a Promise only when the throttle delays the verdict.
 */
export class ServerHandshake {
  readonly #auth: ServerAuth;
  readonly #peerKey: string;
  readonly #peerAddress: string;
  #state: ServerHandshakeState = "new";
  #startedAt = 0;
  /** The challenge an answer may be for: set when sent, cleared by the first answer (use once). */
  #outstanding: { id: number; challenge: Uint8Array; deadline: number } | undefined;
  #key: AuthKey | undefined;
  #identity: string | undefined;
  #session: Session | undefined;
  #failure: AuthFailure | undefined;
  #helloSeen = false;

  constructor(auth: ServerAuth, options: ServerHandshakeOptions) {
    if (typeof options?.peerKey !== "string" || options.peerKey === "") {
      throw new TypeError("serverHandshake needs a peerKey (the remote address or uid failures are counted under)");
    }
    this.#auth = auth;
    this.#peerKey = options.peerKey;
    this.#peerAddress = options.peerAddress ?? options.peerKey;
  }

  get state(): ServerHandshakeState {
    return this.#state;
  }
  /** The authenticated client name, once state is "authenticated". */
  get identity(): string | undefined {
    return this.#identity;
  }
  get session(): Session | undefined {
    return this.#session;
  }
  get failure(): AuthFailure | undefined {
    return this.#failure;
  }
  /** True while a re-challenge waits for its answer. */
  get rechallengePending(): boolean {
    return this.#state === "authenticated" && this.#outstanding !== undefined;
  }
  get serverName(): string {
    return this.#auth.serverName;
  }
  /** Clock time by which the pending handshake or re-challenge must be answered (undefined: none). */
  get deadline(): number | undefined {
    if (this.#state === "challenged" || this.#state === "verifying") return this.#startedAt + this.#auth.handshakeTimeoutMs;
    return this.rechallengePending ? this.#outstanding!.deadline : undefined;
  }

  /** The CHALLENGE body: the first frame of the connection. Call once. */
  start(): Uint8Array {
    if (this.#state !== "new") throw new Error(`ServerHandshake.start() called in state ${this.#state}`);
    this.#startedAt = this.#auth.clock.now();
    const { id, challenge } = this.#issue(this.#startedAt + this.#auth.handshakeTimeoutMs);
    this.#state = "challenged";
    return encodeAuthMessage({
      step: AuthStepType.CHALLENGE,
      algorithm: AuthAlgorithm.HMAC_SHA256_SCRYPT,
      id,
      challenge,
      serverName: this.#auth.serverName,
    });
  }

  /** Handles one AUTH body from the client. A Promise only when the verdict is throttled. */
  receive(body: Uint8Array): AuthStep | Promise<AuthStep> {
    if (this.#state === "failed") return AuthStep.fail(this.#failure!);
    if (this.#state === "new") {
      return this.#fail(AuthFailureReason.PROTOCOL, "protocol error", "sent an AUTH body before the server's CHALLENGE");
    }
    let message;
    try {
      message = decodeAuthMessage(body);
    } catch (error) {
      if (!(error instanceof AuthMessageError)) throw error;
      return this.#fail(AuthFailureReason.MALFORMED, "malformed authentication message", error.message);
    }
    switch (message.step) {
      case AuthStepType.HELLO:
        // The client's announcement, crossing our CHALLENGE on the wire: nothing to answer.
        if (this.#state !== "challenged" || this.#helloSeen) return this.#outOfOrder(message.step);
        this.#helloSeen = true;
        return AuthStep.NONE;
      case AuthStepType.RESPONSE:
        if (this.#state !== "challenged") return this.#outOfOrder(message.step);
        return this.#verifyResponse(message);
      case AuthStepType.REANSWER:
        if (this.#state !== "authenticated") return this.#outOfOrder(message.step);
        return this.#verifyReanswer(message);
      case AuthStepType.FAILURE:
        return this.#fail(
          AuthFailureReason.PEER_ABORTED,
          undefined,
          `sent FAILURE: ${quoteForLog(message.message, 200)}`,
        );
      default:
        return this.#outOfOrder(message.step);
    }
  }

  /**
   * A frame of another kind arrived. Before authentication that ends the handshake (send the
   * step's body, close); once authenticated it is allowed and this returns AuthStep.NONE.
   */
  unexpectedFrame(kind: number): AuthStep {
    if (this.#state === "authenticated") return AuthStep.NONE;
    if (this.#state === "failed") return AuthStep.fail(this.#failure!);
    return this.#fail(
      AuthFailureReason.UNEXPECTED_FRAME,
      "authentication required before any other frame",
      `sent a frame of kind ${kind} before authenticating`,
    );
  }

  /**
   * Issues a re-challenge (RECHALLENGE body) on an authenticated connection. The client must
   * answer within rechallengeTimeoutMs; calls keep flowing meanwhile. Throws if not authenticated
   * or if a re-challenge is already pending.
   */
  rechallenge(): Uint8Array {
    if (this.#state !== "authenticated") throw new Error(`ServerHandshake.rechallenge() called in state ${this.#state}`);
    if (this.#outstanding !== undefined) throw new Error("ServerHandshake.rechallenge(): a re-challenge is already pending");
    const { id, challenge } = this.#issue(this.#auth.clock.now() + this.#auth.rechallengeTimeoutMs);
    return encodeAuthMessage({ step: AuthStepType.RECHALLENGE, id, challenge });
  }

  /**
   * The caller's timer fired: fails the connection (TIMEOUT) if the handshake or a re-challenge is
   * past its deadline, else returns AuthStep.NONE.
   */
  expire(): AuthStep {
    const deadline = this.deadline;
    if (deadline === undefined || this.#auth.clock.now() < deadline) return AuthStep.NONE;
    if (this.#state === "authenticated") {
      return this.#fail(AuthFailureReason.TIMEOUT, "re-authentication timed out", "did not answer a re-challenge in time", true);
    }
    return this.#fail(AuthFailureReason.TIMEOUT, "authentication timed out", "did not complete the handshake in time");
  }

  #issue(deadline: number): { id: number; challenge: Uint8Array } {
    const id = nextChallengeId();
    const challenge = new Uint8Array(randomBytes(NONCE_BYTES));
    issuedChallenges.add(challenge);
    this.#outstanding = { id, challenge, deadline };
    return { id, challenge };
  }

  #verifyResponse(message: ResponseMessage): AuthStep | Promise<AuthStep> {
    const outstanding = this.#outstanding!;
    this.#outstanding = undefined;
    const name = message.clientName;
    if ((message.flags & ~ResponseFlags.MUTUAL) !== 0) {
      return this.#fail(AuthFailureReason.PROTOCOL, "protocol error", `sent RESPONSE flags 0x${message.flags.toString(16)}`, false, name);
    }
    if (this.#auth.clock.now() >= outstanding.deadline) {
      return this.#fail(AuthFailureReason.TIMEOUT, "authentication timed out", "answered after the handshake timeout", false, name);
    }
    const slot = this.#auth.throttle?.admit(this.#peerKey) ?? { refused: false, delayMs: 0 };
    if (slot.refused) {
      return this.#fail(
        AuthFailureReason.THROTTLED,
        "too many failed authentication attempts; retry later",
        "was refused unchecked: too many recent failures from this peer key",
        false,
        name,
      );
    }
    this.#state = "verifying";
    const verdict = this.#verdict(message, outstanding);
    if (slot.delayMs === 0) return this.#deliver(verdict);
    return this.#auth.clock.sleep(slot.delayMs).then(() => this.#deliver(verdict));
  }

  /** Checks an answer; records a failure in the throttle at once (before the delayed delivery). */
  #verdict(
    message: ResponseMessage,
    outstanding: { id: number; challenge: Uint8Array },
  ): Verdict {
    const name = message.clientName;
    const failed = (reason: AuthFailureReason, detail: string) => {
      this.#auth.throttle?.recordFailure(this.#peerKey);
      return { ok: false as const, reason, detail, name };
    };
    if (message.id !== outstanding.id) {
      return failed(
        AuthFailureReason.REPLAYED,
        `answered challenge ${message.id}, but the outstanding challenge is ${outstanding.id}`,
      );
    }
    if (macEquals(message.clientNonce, outstanding.challenge) || issuedChallenges.has(message.clientNonce)) {
      return failed(AuthFailureReason.REFLECTED, "sent back, as its own nonce, a challenge this server issued");
    }
    const transcript: HandshakeTranscript = {
      id: outstanding.id,
      challenge: outstanding.challenge,
      serverName: this.#auth.serverName,
      clientName: name,
      clientNonce: message.clientNonce,
      flags: message.flags,
    };
    const key = this.#auth.credentials.get(name);
    // An unknown name costs the same HMAC and comparison as a known one: timing does not tell them apart.
    const matches = macEquals(clientResponseMac(key ?? unknownNameKey, transcript), message.mac);
    if (key === undefined) return failed(AuthFailureReason.UNKNOWN_NAME, "gave a name with no credential");
    if (!matches) return failed(AuthFailureReason.WRONG_SECRET, "answered with a MAC that does not verify under the name's key");

    const sessionId = new Uint8Array(randomBytes(SESSION_ID_BYTES));
    const session = new Session(sessionId, sessionKey(key, transcript, sessionId));
    const proof =
      (message.flags & ResponseFlags.MUTUAL) !== 0 ? serverProofMac(key, transcript, sessionId) : new Uint8Array(0);
    this.#key = key;
    this.#identity = name;
    this.#session = session;
    const body = encodeAuthMessage({ step: AuthStepType.SUCCESS, sessionId, proof });
    return { ok: true, step: AuthStep.done({ identity: name, session }, body) };
  }

  #deliver(verdict: Verdict): AuthStep {
    // Something else (a stray frame, the timeout) failed the handshake while the verdict waited.
    if (this.#state !== "verifying") return AuthStep.fail(this.#failure!);
    if (!verdict.ok) return this.#fail(verdict.reason, "authentication failed", verdict.detail, false, verdict.name);
    this.#state = "authenticated";
    return verdict.step;
  }

  #verifyReanswer(message: ReanswerMessage): AuthStep {
    const outstanding = this.#outstanding;
    this.#outstanding = undefined;
    if (outstanding === undefined) {
      return this.#fail(AuthFailureReason.REPLAYED, "re-authentication failed", "answered a re-challenge that is not pending", true);
    }
    if (this.#auth.clock.now() >= outstanding.deadline) {
      return this.#fail(AuthFailureReason.TIMEOUT, "re-authentication timed out", "answered a re-challenge after its timeout", true);
    }
    if (message.id !== outstanding.id) {
      this.#auth.throttle?.recordFailure(this.#peerKey);
      return this.#fail(
        AuthFailureReason.REPLAYED,
        "re-authentication failed",
        `answered re-challenge ${message.id}, but the pending one is ${outstanding.id}`,
        true,
      );
    }
    const expected = clientReanswerMac(
      this.#key!,
      outstanding.id,
      outstanding.challenge,
      this.#auth.serverName,
      this.#identity!,
      this.#session!.idBytes,
    );
    if (!macEquals(expected, message.mac)) {
      this.#auth.throttle?.recordFailure(this.#peerKey);
      return this.#fail(AuthFailureReason.WRONG_SECRET, "re-authentication failed", "answered a re-challenge with a MAC that does not verify", true);
    }
    return AuthStep.NONE;
  }

  #outOfOrder(step: AuthStepType): AuthStep {
    return this.#fail(AuthFailureReason.PROTOCOL, "protocol error", `sent ${stepName(step)} in handshake state ${this.#state}`);
  }

  /**
   * Ends the handshake. `peerText` (without the prefix) goes to the client in FAILURE; undefined
   * sends nothing (the client already gave up). The log line names peer, claimed name and reason.
   */
  #fail(
    reason: AuthFailureReason,
    peerText: string | undefined,
    detail: string,
    rechallenge = false,
    claimedName: string | undefined = this.#identity,
  ): AuthStep {
    const who = `peer ${this.#peerAddress}${claimedName === undefined ? "" : ` as ${quoteForLog(claimedName)}`}`;
    const what = rechallenge ? "re-authentication" : "authentication";
    const message = `${PEER_MESSAGE_PREFIX}${peerText ?? "authentication failed"}`;
    const failure = new AuthFailure(reason, message, `CHAP ${what} failed: ${who}: ${reason}: ${detail}`, claimedName);
    this.#state = "failed";
    this.#outstanding = undefined;
    this.#failure = failure;
    if (peerText === undefined) return AuthStep.fail(failure);
    return AuthStep.fail(failure, encodeAuthMessage({ step: AuthStepType.FAILURE, message }));
  }

  toString(): string {
    return `ServerHandshake(${this.#peerAddress}, ${this.#state}${this.#identity === undefined ? "" : `, ${this.#identity}`})`;
  }
  toJSON(): object {
    return {
      peer: this.#peerAddress,
      state: this.#state,
      ...(this.#identity !== undefined && { identity: this.#identity }),
      ...(this.#session !== undefined && { session: this.#session.id }),
    };
  }
  [inspect.custom](): string {
    return `ServerHandshake ${JSON.stringify(this.toJSON())}`;
  }
}

type Verdict = { ok: true; step: AuthStep } | { ok: false; reason: AuthFailureReason; detail: string; name: string };

/** Starts the server side of one connection's handshake. */
export function serverHandshake(auth: ServerAuth, options: ServerHandshakeOptions): ServerHandshake {
  return new ServerHandshake(auth, options);
}

let challengeCounter = 0;

/** Challenge identifiers: a per-process counter, so no identifier repeats within 2^32 challenges. */
function nextChallengeId(): number {
  challengeCounter = (challengeCounter + 1) >>> 0;
  return challengeCounter;
}

/** Stands in for the key of an unknown name, so the check costs the same. Never matches: random. */
const unknownNameKey = AuthKey.fromDerived("unknown-name key", new Uint8Array(randomBytes(32)));
