import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";

/**
 * A peer broke the framing rules (bad magic, unknown version or kind, oversize body, a frame
 * kind not allowed in that direction). The connection it arrived on is closed; nothing else is.
 * `offset` is the position, in bytes from the start of that connection's stream, of the field
 * that was wrong, so a capture of the stream can be checked against the message.
 */
export class ProtocolError extends RpcError {
  /** Undefined for errors found above the framing (a frame kind not allowed in its direction). */
  readonly offset: number | undefined;
  readonly reason: string;

  constructor(reason: string, offset: number | undefined) {
    super(
      Code.INTERNAL,
      offset === undefined ? `protocol error: ${reason}` : `protocol error at byte ${offset} of the connection stream: ${reason}`,
    );
    this.offset = offset;
    this.reason = reason;
  }
}
