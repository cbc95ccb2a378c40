import { Packr } from "msgpackr";
import type { Codec } from "./codec.js";
import { malformedBody } from "./protobuf.js";

/**
 * MessagePack of the proto3 JSON form (toJSON/fromJSON), so every message type, bigint and
 * bytes included, round-trips exactly as with the json codec, in a compact binary encoding.
 * Records and structured clone extensions are off: the bytes are plain MessagePack any
 * implementation reads.
 */
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

export const msgpackCodec: Codec = {
  id: 2,
  name: "msgpack",
  encode(type, message) {
    return packr.pack(type.toJSON(message));
  },
  decode(type, bytes) {
    let unpacked: unknown;
    try {
      unpacked = packr.unpack(bytes);
    } catch (error) {
      throw malformedBody("msgpack", error);
    }
    if (typeof unpacked !== "object" || unpacked === null || Array.isArray(unpacked)) {
      throw malformedBody("msgpack", new Error("expected a MessagePack map at the top level"));
    }
    try {
      return type.fromJSON(unpacked);
    } catch (error) {
      throw malformedBody("msgpack", error);
    }
  },
};
