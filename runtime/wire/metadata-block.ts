import { Code } from "../code.js";
import type { Metadata } from "../metadata.js";
import { RpcError } from "../rpc-error.js";
import { readU32, writeU32 } from "./header.js";

/**
 * The metadata block that starts a frame's body when FrameFlags.METADATA is set
 * (docs/protocol.md, "Metadata block"). All integers big-endian:
 *
 *   u16 count
 *   count × { u16 keyLength, key (ASCII), u32 valueLength, value (UTF-8) }
 *
 * Keys are lower-case ASCII: a-z, 0-9, '-', '_', '.'; 1..255 bytes; no key twice.
 * The message follows the block directly.
 */
export const MAX_METADATA_ENTRIES = 0xffff;
export const MAX_METADATA_KEY_BYTES = 255;

const KEY_PATTERN = /^[a-z0-9._-]{1,255}$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes call metadata; undefined when there is none (the frame then carries no block).
 * Throws RpcError INVALID_ARGUMENT naming the first bad key.
 */
export function encodeMetadata(metadata: Metadata | Record<string, string> | undefined): Uint8Array | undefined {
  if (metadata === undefined) return undefined;
  const entries = metadata instanceof Map ? [...metadata] : Object.entries(metadata);
  if (entries.length === 0) return undefined;
  if (entries.length > MAX_METADATA_ENTRIES) {
    throw new RpcError(Code.INVALID_ARGUMENT, `metadata has ${entries.length} entries, at most ${MAX_METADATA_ENTRIES} allowed`);
  }
  const values: Uint8Array[] = [];
  let size = 2;
  for (const [key, value] of entries) {
    if (!KEY_PATTERN.test(key)) {
      throw new RpcError(
        Code.INVALID_ARGUMENT,
        `metadata key ${JSON.stringify(key)} is invalid: expected 1..255 characters of a-z, 0-9, '-', '_', '.'`,
      );
    }
    if (typeof value !== "string") {
      throw new RpcError(Code.INVALID_ARGUMENT, `metadata value of key "${key}" is a ${typeof value}, expected a string`);
    }
    const bytes = encoder.encode(value);
    values.push(bytes);
    size += 2 + key.length + 4 + bytes.length;
  }
  const block = new Uint8Array(size);
  block[0] = entries.length >>> 8;
  block[1] = entries.length & 0xff;
  let at = 2;
  for (let i = 0; i < entries.length; i++) {
    const key = entries[i]![0];
    const value = values[i]!;
    block[at] = key.length >>> 8;
    block[at + 1] = key.length & 0xff;
    at += 2;
    for (let k = 0; k < key.length; k++) block[at + k] = key.charCodeAt(k);
    at += key.length;
    writeU32(block, at, value.length);
    at += 4;
    block.set(value, at);
    at += value.length;
  }
  return block;
}

export interface DecodedMetadata {
  metadata: Map<string, string>;
  /** Offset in the body where the message starts. */
  messageOffset: number;
}

/**
 * Decodes the block at the start of `body`. Every length is checked against the bytes that are
 * really there before it is used. Throws RpcError INVALID_ARGUMENT saying what was wrong and at
 * which offset of the body.
 */
export function decodeMetadata(body: Uint8Array): DecodedMetadata {
  if (body.length < 2) malformed("the body is shorter than the 2-byte entry count", 0);
  const count = (body[0]! << 8) | body[1]!;
  const metadata = new Map<string, string>();
  let at = 2;
  for (let i = 0; i < count; i++) {
    if (body.length - at < 2) malformed(`entry ${i}: key length cut short`, at);
    const keyLength = (body[at]! << 8) | body[at + 1]!;
    at += 2;
    if (keyLength === 0 || keyLength > MAX_METADATA_KEY_BYTES) {
      malformed(`entry ${i}: key length ${keyLength}, expected 1..${MAX_METADATA_KEY_BYTES}`, at - 2);
    }
    if (body.length - at < keyLength) malformed(`entry ${i}: key of ${keyLength} bytes cut short`, at);
    let key = "";
    for (let k = 0; k < keyLength; k++) key += String.fromCharCode(body[at + k]!);
    if (!KEY_PATTERN.test(key)) malformed(`entry ${i}: key ${JSON.stringify(key)} is not lower-case ASCII`, at);
    if (metadata.has(key)) malformed(`entry ${i}: key "${key}" appears twice`, at);
    at += keyLength;
    if (body.length - at < 4) malformed(`entry ${i}: value length cut short`, at);
    const valueLength = readU32(body, at);
    at += 4;
    if (body.length - at < valueLength) malformed(`entry ${i}: value of ${valueLength} bytes runs past the body`, at - 4);
    let value: string;
    try {
      value = decoder.decode(body.subarray(at, at + valueLength));
    } catch {
      malformed(`entry ${i}: value of key "${key}" is not valid UTF-8`, at);
    }
    metadata.set(key, value);
    at += valueLength;
  }
  return { metadata, messageOffset: at };
}

function malformed(reason: string, offset: number): never {
  throw new RpcError(Code.INVALID_ARGUMENT, `malformed metadata block at body offset ${offset}: ${reason}`);
}
