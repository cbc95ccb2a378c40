import { inspect } from "node:util";
import type { AuthFailure } from "./auth-failure.js";
import type { Session } from "./session.js";

/** A handshake that succeeded: who the peer is, and the session both sides now share. */
export interface AuthSuccess {
  /** Server side: the client's name. Client side: the server's name. */
  readonly identity: string;
  readonly session: Session;
}

/**
 * What a handshake asks its caller to do after each input, in this order:
 * 1. `send`: write it as the body of a FrameKind.AUTH frame;
 * 2. `done`: authentication succeeded (exactly once per handshake);
 *    `fail`: authentication failed: close the connection after sending.
 * A step with none of the three means "accepted, nothing to do" (e.g. a good re-challenge answer).
 *
 * `send` may hold a MAC, so inspect/JSON show only its length.
 */
export class AuthStep {
  readonly send?: Uint8Array;
  readonly done?: AuthSuccess;
  readonly fail?: AuthFailure;

  private constructor(send?: Uint8Array, done?: AuthSuccess, fail?: AuthFailure) {
    if (send !== undefined) this.send = send;
    if (done !== undefined) this.done = done;
    if (fail !== undefined) this.fail = fail;
  }

  static readonly NONE = new AuthStep();

  static send(body: Uint8Array): AuthStep {
    return new AuthStep(body);
  }
  static done(success: AuthSuccess, body?: Uint8Array): AuthStep {
    return new AuthStep(body, success);
  }
  static fail(failure: AuthFailure, body?: Uint8Array): AuthStep {
    return new AuthStep(body, undefined, failure);
  }

  toJSON(): object {
    return {
      ...(this.send !== undefined && { send: `[${this.send.length} bytes]` }),
      ...(this.done !== undefined && { done: { identity: this.done.identity, session: this.done.session.toJSON() } }),
      ...(this.fail !== undefined && { fail: { reason: this.fail.reason, message: this.fail.message } }),
    };
  }
  toString(): string {
    return `AuthStep ${JSON.stringify(this.toJSON())}`;
  }
  [inspect.custom](): string {
    return this.toString();
  }
}
