import type { MessageType, MethodDefinition } from "./definition.js";
import { methodId } from "./wire/header.js";

/**
 * A MethodDefinition for code that sends or serves a method's bodies as bytes (with rawCodec):
 * the method is known only by its full name, "<package>.<service>.<rpc>", from which the wire id
 * is computed like msf-gen does.
 */
export function rawMethod(fullName: string, idempotent = false): MethodDefinition<Uint8Array, Uint8Array> {
  const dot = fullName.lastIndexOf(".");
  const name = dot < 0 ? fullName : fullName.slice(dot + 1);
  return {
    name,
    localName: name,
    fullName,
    id: methodId(fullName),
    requestType: bytesType,
    responseType: bytesType,
    idempotent,
  };
}

/** Bytes as their own message type: what rawCodec bodies are. */
const bytesType: MessageType<Uint8Array> = {
  encode: (message) => ({ finish: () => message }),
  decode: (input) => input,
  fromJSON: (object) => object as Uint8Array,
  toJSON: (message) => message,
  fromPartial: (object) => object as Uint8Array,
};
