import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { AuthFailure, AuthFailureReason, PEER_MESSAGE_PREFIX, quoteForLog } from "./auth-failure.js";
import {
  AuthAlgorithm,
  AuthMessageError,
  AuthStepType,
  decodeAuthMessage,
  encodeAuthMessage,
  MAC_BYTES,
  NONCE_BYTES,
  ResponseFlags,
  stepName,
  type ChallengeMessage,
  type RechallengeMessage,
  type SuccessMessage,
} from "./auth-messages.js";
import { AuthStep } from "./auth-step.js";
import { clientReanswerMac, clientResponseMac, macEquals, serverProofMac, sessionKey, type HandshakeTranscript } from "./chap-mac.js";
import type { ClientAuth } from "./client-auth.js";
import { sentClientNonces } from "./recent-nonces.js";
import { Session } from "./session.js";

/**
 * - awaiting-challenge: connected, waiting for the server's CHALLENGE.
 * - answered: RESPONSE sent, waiting for SUCCESS or FAILURE.
 * - authenticated: calls may flow; RECHALLENGEs are answered as they come.
 * - failed: terminal; close the connection.
 */
export type ClientHandshakeState = "awaiting-challenge" | "answered" | "authenticated" | "failed";

/**
 * The client's side of one connection's CHAP handshake: a pure state machine, AUTH bodies in,
 * AuthSteps out (always synchronously); no I/O, no timers (ClientAuthGuard adds those).
 *
 * Contract for the caller: create it when the connection opens; send no call until a step carries
 * `done`; pass every AUTH body to receive() (re-challenges included, at any time: answering one
 * does not pause calls); a non-AUTH frame before `done` goes to unexpectedFrame().
 */
export class ClientHandshake {
  readonly #auth: ClientAuth;
  readonly #startedAt: number;
  #state: ClientHandshakeState = "awaiting-challenge";
  #transcript: HandshakeTranscript | undefined;
  #serverName: string | undefined;
  #session: Session | undefined;
  #failure: AuthFailure | undefined;

  constructor(auth: ClientAuth) {
    this.#auth = auth;
    this.#startedAt = auth.clock.now();
  }

  get state(): ClientHandshakeState {
    return this.#state;
  }
  /** The server's name (from its CHALLENGE; proven by SUCCESS in mutual mode). */
  get serverName(): string | undefined {
    return this.#serverName;
  }
  get session(): Session | undefined {
    return this.#session;
  }
  get failure(): AuthFailure | undefined {
    return this.#failure;
  }
  /** Clock time by which the handshake must succeed; undefined once it has. */
  get deadline(): number | undefined {
    return this.#state === "awaiting-challenge" || this.#state === "answered"
      ? this.#startedAt + this.#auth.handshakeTimeoutMs
      : undefined;
  }

  /**
   * The HELLO body, sent as the connection's first frame (before the CHALLENGE arrives): a server
   * without authentication answers it with FAILURE, so this client fails at once instead of
   * waiting out its handshake timeout. Changes no state.
   */
  hello(): Uint8Array {
    return encodeAuthMessage({ step: AuthStepType.HELLO });
  }

  /** Handles one AUTH body from the server. */
  receive(body: Uint8Array): AuthStep {
    if (this.#state === "failed") return AuthStep.fail(this.#failure!);
    let message;
    try {
      message = decodeAuthMessage(body);
    } catch (error) {
      if (!(error instanceof AuthMessageError)) throw error;
      return this.#fail(AuthFailureReason.MALFORMED, "the server sent a malformed authentication message", error.message);
    }
    switch (message.step) {
      case AuthStepType.CHALLENGE:
        if (this.#state !== "awaiting-challenge") return this.#outOfOrder(message.step);
        return this.#answer(message);
      case AuthStepType.SUCCESS:
        if (this.#state !== "answered") return this.#outOfOrder(message.step);
        return this.#accept(message);
      case AuthStepType.RECHALLENGE:
        if (this.#state !== "authenticated") return this.#outOfOrder(message.step);
        return this.#reanswer(message);
      case AuthStepType.FAILURE: {
        const text = message.message.startsWith(PEER_MESSAGE_PREFIX)
          ? message.message.slice(PEER_MESSAGE_PREFIX.length)
          : message.message;
        return this.#fail(AuthFailureReason.REJECTED, undefined, `the server refused: ${quoteForLog(text, 200)}`, `${PEER_MESSAGE_PREFIX}${text}`);
      }
      default:
        return this.#outOfOrder(message.step);
    }
  }

  /** A non-AUTH frame arrived: fatal before authentication, AuthStep.NONE after. */
  unexpectedFrame(kind: number): AuthStep {
    if (this.#state === "authenticated") return AuthStep.NONE;
    if (this.#state === "failed") return AuthStep.fail(this.#failure!);
    return this.#fail(
      AuthFailureReason.UNEXPECTED_FRAME,
      "the server sent another frame before authentication completed",
      `the server sent a frame of kind ${kind} before authentication completed (does it require authentication?)`,
    );
  }

  /** The caller's timer fired: TIMEOUT if the handshake is past its deadline, else AuthStep.NONE. */
  expire(): AuthStep {
    const deadline = this.deadline;
    if (deadline === undefined || this.#auth.clock.now() < deadline) return AuthStep.NONE;
    return this.#fail(
      AuthFailureReason.TIMEOUT,
      "authentication timed out",
      `no ${this.#state === "answered" ? "verdict" : "CHALLENGE"} from the server within ${this.#auth.handshakeTimeoutMs} ms`,
    );
  }

  #answer(message: ChallengeMessage): AuthStep {
    if (message.algorithm !== AuthAlgorithm.HMAC_SHA256_SCRYPT) {
      return this.#fail(
        AuthFailureReason.PROTOCOL,
        "unsupported authentication algorithm",
        `the server asked for algorithm ${message.algorithm}; this client speaks only ${AuthAlgorithm.HMAC_SHA256_SCRYPT} (HMAC-SHA256)`,
      );
    }
    if (this.#auth.serverName !== undefined && message.serverName !== this.#auth.serverName) {
      return this.#fail(
        AuthFailureReason.SERVER_NAME_MISMATCH,
        "unexpected server name",
        `the server calls itself ${quoteForLog(message.serverName)}, expected ${quoteForLog(this.#auth.serverName)}`,
      );
    }
    if (sentClientNonces.has(message.challenge)) {
      return this.#fail(AuthFailureReason.REFLECTED, "reflected challenge", "the server's challenge is a nonce this client sent");
    }
    const clientNonce = new Uint8Array(randomBytes(NONCE_BYTES));
    sentClientNonces.add(clientNonce);
    const transcript: HandshakeTranscript = {
      id: message.id,
      challenge: message.challenge,
      serverName: message.serverName,
      clientName: this.#auth.name,
      clientNonce,
      flags: this.#auth.mutual ? ResponseFlags.MUTUAL : ResponseFlags.NONE,
    };
    this.#transcript = transcript;
    this.#serverName = message.serverName;
    this.#state = "answered";
    return AuthStep.send(
      encodeAuthMessage({
        step: AuthStepType.RESPONSE,
        id: message.id,
        flags: transcript.flags,
        clientName: this.#auth.name,
        clientNonce,
        mac: clientResponseMac(this.#auth.key, transcript),
      }),
    );
  }

  #accept(message: SuccessMessage): AuthStep {
    const transcript = this.#transcript!;
    if (this.#auth.mutual) {
      const proven =
        message.proof.length === MAC_BYTES &&
        macEquals(serverProofMac(this.#auth.key, transcript, message.sessionId), message.proof);
      if (!proven) {
        return this.#fail(
          AuthFailureReason.SERVER_NOT_AUTHENTIC,
          "the server failed to prove its identity",
          message.proof.length === 0
            ? "the server sent no proof although mutual authentication was requested"
            : "the server's proof does not verify: it does not know this client's key",
        );
      }
    }
    this.#session = new Session(message.sessionId, sessionKey(this.#auth.key, transcript, message.sessionId));
    this.#state = "authenticated";
    return AuthStep.done({ identity: transcript.serverName, session: this.#session });
  }

  #reanswer(message: RechallengeMessage): AuthStep {
    if (sentClientNonces.has(message.challenge)) {
      return this.#fail(AuthFailureReason.REFLECTED, "reflected challenge", "the server's re-challenge is a nonce this client sent");
    }
    const mac = clientReanswerMac(
      this.#auth.key,
      message.id,
      message.challenge,
      this.#transcript!.serverName,
      this.#auth.name,
      this.#session!.idBytes,
    );
    return AuthStep.send(encodeAuthMessage({ step: AuthStepType.REANSWER, id: message.id, mac }));
  }

  #outOfOrder(step: AuthStepType): AuthStep {
    return this.#fail(AuthFailureReason.PROTOCOL, "protocol error", `the server sent ${stepName(step)} in handshake state ${this.#state}`);
  }

  /**
   * Ends the handshake. `peerText` goes to the server in FAILURE (so its log says why); undefined
   * sends nothing. `message` is what this client's caller sees (defaults to the text sent).
   */
  #fail(reason: AuthFailureReason, peerText: string | undefined, detail: string, message?: string): AuthStep {
    const sent = peerText === undefined ? undefined : `${PEER_MESSAGE_PREFIX}${peerText}`;
    const failure = new AuthFailure(
      reason,
      message ?? sent ?? `${PEER_MESSAGE_PREFIX}authentication failed`,
      `CHAP authentication of ${quoteForLog(this.#auth.name)} to server ${
        this.#serverName === undefined ? "(unknown)" : quoteForLog(this.#serverName)
      } failed: ${reason}: ${detail}`,
    );
    this.#state = "failed";
    this.#failure = failure;
    if (sent === undefined) return AuthStep.fail(failure);
    return AuthStep.fail(failure, encodeAuthMessage({ step: AuthStepType.FAILURE, message: sent }));
  }

  toString(): string {
    return `ClientHandshake(${this.#auth.name}, ${this.#state})`;
  }
  toJSON(): object {
    return {
      name: this.#auth.name,
      state: this.#state,
      ...(this.#serverName !== undefined && { serverName: this.#serverName }),
      ...(this.#session !== undefined && { session: this.#session.id }),
    };
  }
  [inspect.custom](): string {
    return `ClientHandshake ${JSON.stringify(this.toJSON())}`;
  }
}

/** Starts the client side of one connection's handshake (when the connection opens). */
export function clientHandshake(auth: ClientAuth): ClientHandshake {
  return new ClientHandshake(auth);
}
