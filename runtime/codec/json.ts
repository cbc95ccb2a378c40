import type { Codec } from "./codec.js";
import { malformedBody } from "./protobuf.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * UTF-8 JSON in the canonical proto3 JSON mapping (ts-proto's toJSON/fromJSON): int64 as strings,
 * bytes as base64, enums by name. Readable on the wire, and what `msf call` prints.
 */
export const jsonCodec: Codec = {
  id: 1,
  name: "json",
  encode(type, message) {
    return encoder.encode(JSON.stringify(type.toJSON(message)));
  },
  decode(type, bytes) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(bytes));
    } catch (error) {
      throw malformedBody("json", error);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw malformedBody("json", new Error(`expected a JSON object, got ${describe(parsed)}`));
    }
    try {
      return type.fromJSON(parsed);
    } catch (error) {
      throw malformedBody("json", error);
    }
  },
};

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
