import { Code, isCode } from "../code.js";
import type { MethodDefinition } from "../definition.js";
import { RpcError } from "../rpc-error.js";

/**
 * The RpcError a client raises for an error reply (status ≠ OK) to `method`. Shared by the async
 * channel and the native blocking engine, so both report a reply identically. A status outside
 * the code table becomes UNKNOWN naming the number; UNIMPLEMENTED also names the method called.
 * `refused`: the server marked the reply REFUSED (it did not start the call), so the error is `unsent`.
 */
export function remoteError(status: number, message: string, method: MethodDefinition, refused = false): RpcError {
  if (!isCode(status) || status === Code.OK) {
    return new RpcError(Code.UNKNOWN, `reply to ${method.fullName} has status ${status}, which is no known code: ${message}`);
  }
  if (status === Code.UNIMPLEMENTED) return new RpcError(status, `${message}; the client called ${method.fullName}`, { unsent: refused });
  return new RpcError(status, message, { unsent: refused });
}
