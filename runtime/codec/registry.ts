import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import type { Codec } from "./codec.js";
import { jsonCodec } from "./json.js";
import { msgpackCodec } from "./msgpack.js";
import { protobufCodec } from "./protobuf.js";

/**
 * The codecs this runtime speaks, by wire id. A server answers a request in the codec the request
 * named; an id not listed here is answered with INVALID_ARGUMENT.
 */
const codecsById: readonly (Codec | undefined)[] = [protobufCodec, jsonCodec, msgpackCodec];

export function codecById(id: number): Codec | undefined {
  return codecsById[id];
}

/** Resolves a codec option: a Codec passes through, a name is looked up ("protobuf" when undefined). */
export function resolveCodec(option: string | Codec | undefined): Codec {
  if (option === undefined) return protobufCodec;
  if (typeof option !== "string") return option;
  for (const codec of codecsById) if (codec?.name === option) return codec;
  const known = codecsById.map((codec) => codec?.name).filter(Boolean).join(", ");
  throw new RpcError(Code.INVALID_ARGUMENT, `unknown codec "${option}": expected one of ${known}`);
}
