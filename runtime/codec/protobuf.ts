import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import type { Codec } from "./codec.js";
import { checkProtobufTopLevel } from "./protobuf-check.js";

/** Protocol Buffers binary, through the generated message code. The default codec. */
export const protobufCodec: Codec = {
  id: 0,
  name: "protobuf",
  encode(type, message) {
    return type.encode(message).finish();
  },
  decode(type, bytes) {
    const problem = checkProtobufTopLevel(bytes);
    if (problem !== undefined) throw new RpcError(Code.INVALID_ARGUMENT, `malformed protobuf body: ${problem}`);
    try {
      return type.decode(bytes);
    } catch (error) {
      throw malformedBody("protobuf", error);
    }
  },
};

/** The INVALID_ARGUMENT every codec raises for a body it cannot read. */
export function malformedBody(codecName: string, error: unknown): RpcError {
  const reason = error instanceof Error ? error.message : String(error);
  return new RpcError(Code.INVALID_ARGUMENT, `malformed ${codecName} body: ${reason}`, { cause: error });
}
