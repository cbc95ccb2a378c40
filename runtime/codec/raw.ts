import { Code } from "../code.js";
import type { MessageType } from "../definition.js";
import { RpcError } from "../rpc-error.js";
import type { Codec } from "./codec.js";
import { codecById } from "./registry.js";

/**
 * Pass-through codecs for code that carries bodies without reading them (msfd's broker forwards
 * a call's bytes to an instance and the reply's bytes back). `rawCodec(id)` keeps the wire id of
 * the real codec, so a forwarded frame says which codec its bytes are in, and the far end decodes
 * them as usual. encode takes a Uint8Array and returns it unchanged; decode returns its input.
 */
export function rawCodec(id: number): Codec {
  const codec = rawCodecs[id];
  if (codec === undefined) {
    throw new RpcError(Code.INVALID_ARGUMENT, `rawCodec(${String(id)}): no codec has wire id ${String(id)} (0 protobuf, 1 json, 2 msgpack)`);
  }
  return codec;
}

/** rawCodec(id), or undefined for an id no codec has: for the server's dispatch, which reports it. */
export function rawCodecById(id: number): Codec | undefined {
  return rawCodecs[id];
}

function makeRawCodec(id: number): Codec {
  const name = codecById(id)!.name;
  return {
    id,
    name,
    encode<T>(_type: MessageType<T>, message: T): Uint8Array {
      if (!(message instanceof Uint8Array)) {
        throw new RpcError(Code.INTERNAL, `raw ${name} body: expected a Uint8Array, got ${message === null ? "null" : typeof message}`);
      }
      return message;
    },
    decode<T>(_type: MessageType<T>, bytes: Uint8Array): T {
      return bytes as T;
    },
  };
}

const rawCodecs: readonly Codec[] = [0, 1, 2].map(makeRawCodec);
