import { inspect } from "node:util";
import type { AuthFailure } from "./auth-failure.js";
import type { AuthStep, AuthSuccess } from "./auth-step.js";
import type { ClientAuth } from "./client-auth.js";
import { ClientHandshake } from "./client-handshake.js";

/** What a client connection does for its guard. Called synchronously, never after close(). */
export interface ClientAuthEvents {
  /** Write `body` as the body of a FrameKind.AUTH frame (seq, method, codec: 0). */
  send(body: Uint8Array): void;
  /** The server accepted this client (once): calls may now be sent on this connection. */
  authenticated(success: AuthSuccess): void;
  /**
   * Authentication failed (or the server refused a re-challenge answer): close the connection and
   * fail the calls waiting for it with failure.toRpcError() (code UNAUTHENTICATED). Any FAILURE
   * body for the server has already gone through send().
   */
  failed(failure: AuthFailure): void;
}

/**
 * Runs a ClientHandshake on one connection: enforces the handshake timeout and answers the
 * server's re-challenges as they come, without holding calls back.
 *
 * Use: create when the connection opens, call start(); send no call until authenticated();
 * route AUTH bodies to receive(); ask admit(kind) before handling any other frame; call close()
 * when the connection closes.
 */
export class ClientAuthGuard {
  readonly handshake: ClientHandshake;
  readonly #auth: ClientAuth;
  readonly #events: ClientAuthEvents;
  #closed = false;
  #cancelTimer: (() => void) | undefined;

  constructor(auth: ClientAuth, events: ClientAuthEvents) {
    this.#auth = auth;
    this.#events = events;
    this.handshake = new ClientHandshake(auth);
  }

  get authenticated(): boolean {
    return !this.#closed && this.handshake.state === "authenticated";
  }

  /**
   * Starts the handshake timeout and sends HELLO. The server speaks first (its CHALLENGE); the
   * HELLO only makes a server without authentication say so at once (it answers FAILURE).
   * Does nothing once closed.
   */
  start(): void {
    if (this.#closed) return;
    this.#armExpiry();
    this.#events.send(this.handshake.hello());
  }

  /** An AUTH frame's body arrived. */
  receive(body: Uint8Array): void {
    if (this.#closed) return;
    this.#handle(this.handshake.receive(body));
  }

  /** May a frame of `kind` (not AUTH) be handled? Before authentication it ends the connection. */
  admit(kind: number): boolean {
    if (this.#closed) return false;
    if (this.handshake.state === "authenticated") return true;
    this.#handle(this.handshake.unexpectedFrame(kind));
    return false;
  }

  /** The connection closed: stop the timer; nothing is sent or reported after this. */
  close(): void {
    this.#closed = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  #handle(step: AuthStep): void {
    if (this.#closed) return;
    if (step.send !== undefined) this.#events.send(step.send);
    if (step.fail !== undefined) {
      this.close();
      this.#events.failed(step.fail);
      return;
    }
    if (step.done !== undefined) {
      this.#cancelTimer?.();
      this.#cancelTimer = undefined;
      this.#events.authenticated(step.done);
    }
  }

  #armExpiry(): void {
    const deadline = this.handshake.deadline;
    if (deadline === undefined) return;
    this.#cancelTimer?.();
    this.#cancelTimer = this.#auth.clock.setTimer(Math.max(1, deadline - this.#auth.clock.now()), () => {
      if (this.#closed) return;
      const step = this.handshake.expire();
      if (step.fail !== undefined) this.#handle(step);
      else this.#armExpiry();
    });
  }

  toString(): string {
    return `ClientAuthGuard(${this.handshake.toString()})`;
  }
  toJSON(): object {
    return { closed: this.#closed, handshake: this.handshake.toJSON() };
  }
  [inspect.custom](): string {
    return `ClientAuthGuard ${JSON.stringify(this.toJSON())}`;
  }
}

/** Creates the guard of one client connection (call start() on it). */
export function clientAuthGuard(auth: ClientAuth, events: ClientAuthEvents): ClientAuthGuard {
  return new ClientAuthGuard(auth, events);
}
