import type { MessageType } from "../definition.js";

/**
 * How message bodies are turned into bytes. A channel picks one codec; its id travels in every
 * frame header, so a server answers in the codec it was asked in.
 *
 * To add a codec: implement this interface in `runtime/codec/<name>.ts` and register it in
 * `registry.ts` under a new id (ids are part of the wire protocol: never reuse one).
 */
export interface Codec {
  /** Wire id (header byte 4): 0 protobuf, 1 json, 2 msgpack. */
  readonly id: number;
  /** Name used in options and configs: "protobuf", "json", "msgpack". */
  readonly name: string;
  encode<T>(type: MessageType<T>, message: T): Uint8Array;
  /** Throws RpcError INVALID_ARGUMENT on malformed input, naming the codec and the type. */
  decode<T>(type: MessageType<T>, bytes: Uint8Array): T;
}

export type CodecName = "protobuf" | "json" | "msgpack";
