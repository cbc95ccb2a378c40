import { inspect } from "node:util";
import { AuthFailure, AuthFailureReason, PEER_MESSAGE_PREFIX } from "./auth-failure.js";
import { AuthStepType, encodeAuthMessage } from "./auth-messages.js";
import type { AuthStep, AuthSuccess } from "./auth-step.js";
import type { ServerAuth } from "./server-auth.js";
import { ServerHandshake, type ServerHandshakeOptions } from "./server-handshake.js";

/** What a server connection does for its guard. Called synchronously, never after close(). */
export interface ServerAuthEvents {
  /** Write `body` as the body of a FrameKind.AUTH frame (seq, method, codec: 0). */
  send(body: Uint8Array): void;
  /** The client authenticated (once): let other frames through; context.peer.identity = identity. */
  authenticated(success: AuthSuccess): void;
  /**
   * Authentication (or a re-challenge) failed: log `failure.logMessage`, then close the connection.
   * Any FAILURE body for the client has already gone through send().
   */
  failed(failure: AuthFailure): void;
}

/**
 * Runs a ServerHandshake on one connection: sends the challenge, enforces the handshake
 * timeout, delivers throttled verdicts, re-challenges every rechallengeIntervalMs and ends the
 * session when an answer fails or does not come within rechallengeTimeoutMs. Timers come from
 * the ServerAuth's clock and never keep the process alive.
 *
 * From start() until the handshake succeeds, fails or the connection closes, the guard holds one
 * of the ServerAuth's maxPendingHandshakes places; when none is free, start() refuses the
 * connection (FAILURE, then failed() with reason OVERLOADED) without issuing a challenge.
 *
 * Use: create when the connection opens, call start(); route AUTH bodies to receive(); ask
 * admit(kind) before handling any other frame; call close() when the connection closes.
 */
export class ServerAuthGuard {
  readonly handshake: ServerHandshake;
  readonly #auth: ServerAuth;
  readonly #events: ServerAuthEvents;
  readonly #peerAddress: string;
  #closed = false;
  #cancelTimer: (() => void) | undefined;
  /** This guard holds one of the ServerAuth's pending-handshake places. */
  #pending = false;

  constructor(auth: ServerAuth, options: ServerHandshakeOptions, events: ServerAuthEvents) {
    this.#auth = auth;
    this.#events = events;
    this.#peerAddress = options.peerAddress ?? options.peerKey;
    this.handshake = new ServerHandshake(auth, options);
  }

  /** True once the client authenticated (and until the session ends). */
  get authenticated(): boolean {
    return !this.#closed && this.handshake.state === "authenticated";
  }
  /** The client's name once authenticated. */
  get identity(): string | undefined {
    return this.handshake.identity;
  }

  /** Sends the CHALLENGE and starts the handshake timeout. Does nothing once closed. */
  start(): void {
    if (this.#closed) return;
    if (!this.#auth.handshakeStarted()) {
      this.#refuseOverloaded();
      return;
    }
    this.#pending = true;
    const body = this.handshake.start();
    this.#armExpiry();
    this.#events.send(body);
  }

  /** An AUTH frame's body arrived. */
  receive(body: Uint8Array): void {
    if (this.#closed) return;
    const wasPending = this.handshake.rechallengePending;
    const result = this.handshake.receive(body);
    if (!(result instanceof Promise)) {
      this.#handle(result, wasPending);
      return;
    }
    result.then(
      (step) => this.#handle(step),
      (error: unknown) =>
        this.#handle({
          fail: new AuthFailure(
            AuthFailureReason.PROTOCOL,
            `${PEER_MESSAGE_PREFIX}internal error`,
            `CHAP verdict failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`,
          ),
        }),
    );
  }

  /**
   * May a frame of `kind` (not AUTH) be handled? True once authenticated. Before that the frame
   * ends the handshake: the FAILURE is sent, failed() is called, and this returns false.
   */
  admit(kind: number): boolean {
    if (this.#closed) return false;
    if (this.handshake.state === "authenticated") return true;
    this.#handle(this.handshake.unexpectedFrame(kind));
    return false;
  }

  /** The connection closed: stop the timers; nothing is sent or reported after this. */
  close(): void {
    this.#closed = true;
    this.#release();
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  /** Gives back the pending-handshake place (once): the handshake is over, one way or another. */
  #release(): void {
    if (!this.#pending) return;
    this.#pending = false;
    this.#auth.handshakeEnded();
  }

  #refuseOverloaded(): void {
    const limit = this.#auth.maxPendingHandshakes;
    const message = `${PEER_MESSAGE_PREFIX}too many connections are authenticating; retry later`;
    const failure = new AuthFailure(
      AuthFailureReason.OVERLOADED,
      message,
      `CHAP authentication refused: peer ${this.#peerAddress}: ${AuthFailureReason.OVERLOADED}: ${limit} connections are already authenticating (maxPendingHandshakes)`,
    );
    this.#events.send(encodeAuthMessage({ step: AuthStepType.FAILURE, message }));
    this.close();
    this.#events.failed(failure);
  }

  #handle(step: Pick<AuthStep, "send" | "done" | "fail">, answeredRechallenge = false): void {
    if (this.#closed) return;
    if (step.send !== undefined) this.#events.send(step.send);
    if (step.fail !== undefined) {
      this.close();
      this.#events.failed(step.fail);
      return;
    }
    if (step.done !== undefined) {
      this.#release();
      this.#scheduleRechallenge();
      this.#events.authenticated(step.done);
      return;
    }
    if (answeredRechallenge && !this.handshake.rechallengePending) this.#scheduleRechallenge();
  }

  #scheduleRechallenge(): void {
    const interval = this.#auth.rechallengeIntervalMs;
    if (interval === 0) {
      this.#cancelTimer?.();
      this.#cancelTimer = undefined;
      return;
    }
    this.#timer(interval, () => {
      if (this.#closed || this.handshake.state !== "authenticated") return;
      const body = this.handshake.rechallenge();
      this.#armExpiry();
      this.#events.send(body);
    });
  }

  /**
   * Arms the timer of the pending deadline (handshake or re-challenge). A timer may fire a little
   * before the clock reaches the deadline; then it is re-armed for the rest.
   */
  #armExpiry(): void {
    const deadline = this.handshake.deadline;
    if (deadline === undefined) return;
    this.#timer(Math.max(1, deadline - this.#auth.clock.now()), () => {
      if (this.#closed) return;
      const step = this.handshake.expire();
      if (step.fail !== undefined) this.#handle(step);
      else this.#armExpiry();
    });
  }

  #timer(ms: number, callback: () => void): void {
    this.#cancelTimer?.();
    this.#cancelTimer = this.#auth.clock.setTimer(ms, callback);
  }

  toString(): string {
    return `ServerAuthGuard(${this.handshake.toString()})`;
  }
  toJSON(): object {
    return { closed: this.#closed, handshake: this.handshake.toJSON() };
  }
  [inspect.custom](): string {
    return `ServerAuthGuard ${JSON.stringify(this.toJSON())}`;
  }
}

/** Creates the guard of one server connection (call start() on it). */
export function serverAuthGuard(auth: ServerAuth, options: ServerHandshakeOptions, events: ServerAuthEvents): ServerAuthGuard {
  return new ServerAuthGuard(auth, options, events);
}
