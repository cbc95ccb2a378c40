import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";

/** Why a handshake (or a re-challenge) failed. String values, so a log line reads as is. */
export enum AuthFailureReason {
  /** Server: no credential for the name the client gave. */
  UNKNOWN_NAME = "UNKNOWN_NAME",
  /** Server: the answer's MAC does not verify under the name's key. */
  WRONG_SECRET = "WRONG_SECRET",
  /** Server: the answer names a challenge that is not the one outstanding (old, used, or none). */
  REPLAYED = "REPLAYED",
  /** A peer sent back a challenge or nonce this process issued itself. */
  REFLECTED = "REFLECTED",
  /** A frame other than AUTH arrived before authentication succeeded. */
  UNEXPECTED_FRAME = "UNEXPECTED_FRAME",
  /** An AUTH body that does not decode. */
  MALFORMED = "MALFORMED",
  /** A well-formed AUTH message at the wrong step, or an unsupported algorithm. */
  PROTOCOL = "PROTOCOL",
  /** The handshake, or the answer to a re-challenge, did not arrive in time. */
  TIMEOUT = "TIMEOUT",
  /** Server: too many failures from this peer key are queued; refused without checking. */
  THROTTLED = "THROTTLED",
  /**
   * Server: maxPendingHandshakes connections were already authenticating; this one was refused
   * before its challenge (a flood of connections that never authenticate cannot grow without bound).
   */
  OVERLOADED = "OVERLOADED",
  /** Client (mutual mode): the server's proof is missing or does not verify. */
  SERVER_NOT_AUTHENTIC = "SERVER_NOT_AUTHENTIC",
  /** Client: the server's name is not the one the client was configured to expect. */
  SERVER_NAME_MISMATCH = "SERVER_NAME_MISMATCH",
  /** Client: the server sent FAILURE. */
  REJECTED = "REJECTED",
  /** Server: the client sent FAILURE (it refused the server). */
  PEER_ABORTED = "PEER_ABORTED",
}

/**
 * A failed authentication. `message` is what the peer may see ("UNAUTHENTICATED: ..."): it never
 * says whether the name or the secret was wrong. `logMessage` is for this side's log: it names the
 * peer, the claimed name and the reason. Neither ever contains a secret, key or MAC.
 */
export class AuthFailure {
  constructor(
    readonly reason: AuthFailureReason,
    /** Sent to the peer in FAILURE; starts with "UNAUTHENTICATED: ". */
    readonly message: string,
    /** For this side's log only. */
    readonly logMessage: string,
    /**
     * Server side: the name the client claimed (as received: 1..255 UTF-8 bytes, no control
     * characters, but chosen by the peer), when it got that far. Client side: undefined.
     */
    readonly claimedName?: string,
  ) {}

  /** The error a caller sees: code UNAUTHENTICATED, the peer-safe message. */
  toRpcError(): RpcError {
    return new RpcError(Code.UNAUTHENTICATED, this.message.replace(/^UNAUTHENTICATED: /, ""));
  }

  toString(): string {
    return `AuthFailure(${this.reason}): ${this.logMessage}`;
  }
}

export const PEER_MESSAGE_PREFIX = "UNAUTHENTICATED: ";

/** Makes peer-supplied text safe for one log line: printable, quoted, bounded. */
export function quoteForLog(text: string, limit = 64): string {
  const printable = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
  const cut = printable.length > limit ? `${printable.slice(0, limit)}...` : printable;
  return JSON.stringify(cut);
}
