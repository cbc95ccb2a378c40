import { decode, encode } from "@msgpack/msgpack";
import type { Codec } from "./codec.js";
import { malformedBody } from "./protobuf.js";

/**
 * MessagePack of the proto3 JSON form (toJSON/fromJSON), so every message type, bigint and
 * bytes included, round-trips exactly as with the json codec, in a compact binary encoding.
 * Uses @msgpack/msgpack, the reference implementation for JavaScript: plain JS, no native
 * extension and no install script.
 */
export const msgpackCodec: Codec = {
  id: 2,
  name: "msgpack",
  encode(type, message) {
    return encode(type.toJSON(message));
  },
  decode(type, bytes) {
    let unpacked: unknown;
    try {
      unpacked = decode(bytes);
    } catch (error) {
      throw malformedBody("msgpack", error);
    }
    if (typeof unpacked !== "object" || unpacked === null || Array.isArray(unpacked) || unpacked instanceof Uint8Array) {
      throw malformedBody("msgpack", new Error("expected a MessagePack map at the top level"));
    }
    try {
      return type.fromJSON(unpacked);
    } catch (error) {
      throw malformedBody("msgpack", error);
    }
  },
};
