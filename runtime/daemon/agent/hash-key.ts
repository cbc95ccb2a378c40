import { decode as decodeMsgpack } from "@msgpack/msgpack";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { Metadata } from "../../metadata.js";
import type { HashKey } from "./agent-types.js";

/**
 * The consistent-hash key of a call the broker forwards as bytes, per the service's `hash_key`:
 *
 * - `metadata:<name>`: the value of metadata entry <name>.
 * - `field:<n>` (a field number; `<n>.<m>` reaches into the embedded message in field n) for
 *   protobuf bodies, read from the raw bytes (the broker has no message descriptors). A
 *   string/bytes field gives its text (UTF-8; bytes that are not UTF-8 give "0x" + hex), a varint
 *   its unsigned value, fixed32/64 their value; a field sent several times, like a protobuf
 *   parser, the last one. Name a scalar field: a packed repeated field is hashed as its bytes.
 * - `field:<key>` (`<key>.<key>` for a nested object) for json and msgpack bodies: that key of
 *   the object, as the proto3 JSON mapping names it (lowerCamelCase: field `user_id` is
 *   `userId`). Strings as they are; numbers and booleans as text; anything else as its JSON text.
 *
 * A number path names protobuf fields only and a key path json/msgpack keys only: a call in the
 * other codec, a body that does not parse, or a missing entry has no key (undefined) and is
 * balanced without one (round robin).
 */
export function hashKeyOf(hashKey: HashKey, codecId: number, body: Uint8Array, metadata: Metadata): string | undefined {
  if (hashKey.from === "metadata") return metadata.get(hashKey.name);
  const path = parsePath(hashKey.name);
  try {
    if (codecId === 0) return path.numbers === undefined ? undefined : protobufField(body, path.numbers);
    if (path.numbers !== undefined) return undefined;
    if (codecId === 1) return objectKey(JSON.parse(utf8.decode(body)), path.keys);
    if (codecId === 2) return objectKey(decodeMsgpack(body), path.keys);
  } catch {
    // A malformed body has no key; the instance reports the malformed body to the caller.
  }
  return undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const MAX_FIELD_NUMBER = 536_870_911;

export interface FieldPath {
  readonly keys: readonly string[];
  /** Set when every segment is a field number. */
  readonly numbers: readonly number[] | undefined;
}

const paths = new Map<string, FieldPath>();

/** "3.1" → numbers [3, 1]; "user.id" → keys ["user", "id"]. Cached: a service has one hash key. */
export function parsePath(name: string): FieldPath {
  let path = paths.get(name);
  if (path === undefined) {
    const keys = name.split(".");
    const numeric = keys.every((key) => /^[1-9][0-9]{0,8}$/.test(key) && Number(key) <= MAX_FIELD_NUMBER);
    path = { keys, numbers: numeric ? keys.map(Number) : undefined };
    if (paths.size < 1024) paths.set(name, path);
  }
  return path;
}

/** The value of field path `numbers` in the protobuf message `body` (text, see hashKeyOf). */
function protobufField(body: Uint8Array, numbers: readonly number[]): string | undefined {
  let bytes = body;
  for (let depth = 0; depth < numbers.length - 1; depth++) {
    const embedded = lastLengthDelimited(bytes, numbers[depth]!);
    if (embedded === undefined) return undefined;
    bytes = embedded;
  }
  return scalarField(bytes, numbers[numbers.length - 1]!);
}

function lastLengthDelimited(body: Uint8Array, wanted: number): Uint8Array | undefined {
  const reader = new BinaryReader(body);
  let found: Uint8Array | undefined;
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === wanted && wireType === WireType.LengthDelimited) found = reader.bytes();
    else reader.skip(wireType, fieldNo);
  }
  return found;
}

function scalarField(body: Uint8Array, wanted: number): string | undefined {
  const reader = new BinaryReader(body);
  let found: string | undefined;
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo !== wanted) {
      reader.skip(wireType, fieldNo);
      continue;
    }
    switch (wireType) {
      case WireType.Varint:
        found = String(reader.uint64());
        break;
      case WireType.Bit32:
        found = String(reader.fixed32());
        break;
      case WireType.Bit64:
        found = String(reader.fixed64());
        break;
      case WireType.LengthDelimited:
        found = text(reader.bytes());
        break;
      default:
        reader.skip(wireType, fieldNo);
    }
  }
  return found;
}

function text(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
  }
}

/** The value at `keys` in a parsed JSON/msgpack body, or in a request object (named channel), as text. */
export function objectKey(parsed: unknown, keys: readonly string[]): string | undefined {
  let value = parsed;
  for (const key of keys) {
    if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array) return undefined;
    if (!Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value instanceof Uint8Array) return text(value);
  return JSON.stringify(value);
}
