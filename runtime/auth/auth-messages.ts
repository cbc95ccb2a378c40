/**
 * The bodies of FrameKind.AUTH frames: the CHAP handshake's messages.
 * docs/auth.md is the specification; this file is its one implementation.
 *
 * Every body starts with a one-byte step, then the step's fields in a fixed order. Integers are
 * big-endian; every variable field carries its own length (u8, or u16 for FAILURE's text), and a
 * body must end exactly where its last field ends.
 *
 *   CHALLENGE   (server → client)  step=1 | algorithm u8 | id u32 | u8 n, challenge[n] | u8 n, serverName[n]
 *   RESPONSE    (client → server)  step=2 | id u32 | flags u8 | u8 n, clientName[n] | u8 n, clientNonce[n] | u8 n, mac[n]
 *   SUCCESS     (server → client)  step=3 | u8 n, sessionId[n] | u8 n, proof[n]   (n = 0: no proof)
 *   FAILURE     (either way)       step=4 | u16 n, message[n]   (UTF-8)
 *   RECHALLENGE (server → client)  step=5 | id u32 | u8 n, challenge[n]
 *   REANSWER    (client → server)  step=6 | id u32 | u8 n, mac[n]
 *   HELLO       (client → server)  step=7   (no fields: "I will authenticate"; see docs/auth.md)
 *
 * Decoding never allocates by a length it has not checked against the bytes actually present,
 * and rejects anything malformed with an AuthMessageError naming the step, the field and the byte.
 */

export enum AuthStepType {
  CHALLENGE = 1,
  RESPONSE = 2,
  SUCCESS = 3,
  FAILURE = 4,
  RECHALLENGE = 5,
  REANSWER = 6,
  /**
   * The client's first frame: it announces that it will authenticate. A server with
   * authentication ignores it (it has sent its CHALLENGE already); a server without answers
   * FAILURE and closes, so such a client fails at once instead of waiting for a CHALLENGE that
   * never comes.
   */
  HELLO = 7,
}

/** The MAC/KDF suite named in CHALLENGE (CHAP's CHAP_A). Only one exists. */
export enum AuthAlgorithm {
  /** Keys from scrypt(N=2^14, r=8, p=1) over the secret; HMAC-SHA256 answers; HKDF-SHA256 sessions. */
  HMAC_SHA256_SCRYPT = 1,
}

/** RESPONSE flags. */
export enum ResponseFlags {
  NONE = 0,
  /** The client requires the server to prove it knows the client's key (mutual authentication). */
  MUTUAL = 1 << 0,
}

/** Bytes of every challenge and nonce this implementation sends. */
export const NONCE_BYTES = 32;
/** Shortest challenge or nonce accepted from a peer (RFC 1994 asks for unpredictable, we ask 128 bits). */
export const MIN_NONCE_BYTES = 16;
/** Longest challenge or nonce accepted from a peer. */
export const MAX_NONCE_BYTES = 64;
/** HMAC-SHA256 output: the only MAC/proof length accepted. */
export const MAC_BYTES = 32;
export const SESSION_ID_BYTES = 16;
/** Names (client and server) are 1..255 UTF-8 bytes without control characters. */
export const MAX_NAME_BYTES = 255;
/** FAILURE text longer than this is neither sent nor accepted. */
export const MAX_FAILURE_MESSAGE_BYTES = 1024;
/** No AUTH body is longer than this; larger ones are rejected before any field is read. */
export const MAX_AUTH_BODY_BYTES = 2048;

export interface ChallengeMessage {
  readonly step: AuthStepType.CHALLENGE;
  readonly algorithm: number;
  readonly id: number;
  readonly challenge: Uint8Array;
  readonly serverName: string;
}

export interface ResponseMessage {
  readonly step: AuthStepType.RESPONSE;
  readonly id: number;
  readonly flags: number;
  readonly clientName: string;
  readonly clientNonce: Uint8Array;
  readonly mac: Uint8Array;
}

export interface SuccessMessage {
  readonly step: AuthStepType.SUCCESS;
  readonly sessionId: Uint8Array;
  /** Empty when the client did not ask for mutual authentication. */
  readonly proof: Uint8Array;
}

export interface FailureMessage {
  readonly step: AuthStepType.FAILURE;
  readonly message: string;
}

export interface RechallengeMessage {
  readonly step: AuthStepType.RECHALLENGE;
  readonly id: number;
  readonly challenge: Uint8Array;
}

export interface ReanswerMessage {
  readonly step: AuthStepType.REANSWER;
  readonly id: number;
  readonly mac: Uint8Array;
}

export interface HelloMessage {
  readonly step: AuthStepType.HELLO;
}

export type AuthMessage =
  | HelloMessage
  | ChallengeMessage
  | ResponseMessage
  | SuccessMessage
  | FailureMessage
  | RechallengeMessage
  | ReanswerMessage;

/** A malformed AUTH body. The message names the step, the field and the byte offset; never content. */
export class AuthMessageError extends Error {
  override readonly name = "AuthMessageError";
  constructor(
    message: string,
    /** Byte offset in the body where decoding stopped. */
    readonly offset: number,
  ) {
    super(`malformed AUTH body: ${message}`);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeAuthMessage(message: AuthMessage): Uint8Array {
  const writer = new Writer();
  writer.u8(message.step);
  switch (message.step) {
    case AuthStepType.CHALLENGE:
      writer.u8(message.algorithm);
      writer.u32(message.id);
      writer.bytes8("challenge", message.challenge);
      writer.bytes8("server name", nameBytes("server name", message.serverName));
      break;
    case AuthStepType.RESPONSE:
      writer.u32(message.id);
      writer.u8(message.flags);
      writer.bytes8("client name", nameBytes("client name", message.clientName));
      writer.bytes8("client nonce", message.clientNonce);
      writer.bytes8("mac", message.mac);
      break;
    case AuthStepType.SUCCESS:
      writer.bytes8("session id", message.sessionId);
      writer.bytes8("proof", message.proof);
      break;
    case AuthStepType.FAILURE: {
      const text = encoder.encode(message.message);
      if (text.length > MAX_FAILURE_MESSAGE_BYTES) {
        throw new RangeError(`FAILURE message is ${text.length} bytes; the limit is ${MAX_FAILURE_MESSAGE_BYTES}`);
      }
      writer.u16(text.length);
      writer.raw(text);
      break;
    }
    case AuthStepType.RECHALLENGE:
      writer.u32(message.id);
      writer.bytes8("challenge", message.challenge);
      break;
    case AuthStepType.REANSWER:
      writer.u32(message.id);
      writer.bytes8("mac", message.mac);
      break;
    case AuthStepType.HELLO:
      break;
  }
  return writer.finish();
}

/** Decodes one AUTH body. Throws AuthMessageError on anything but a well-formed message. */
export function decodeAuthMessage(body: Uint8Array): AuthMessage {
  if (body.length === 0) throw new AuthMessageError("empty body: expected a one-byte step", 0);
  if (body.length > MAX_AUTH_BODY_BYTES) {
    throw new AuthMessageError(`body is ${body.length} bytes; no AUTH message exceeds ${MAX_AUTH_BODY_BYTES}`, 0);
  }
  const step = body[0]!;
  const reader = new Reader(body, stepName(step));
  let message: AuthMessage;
  switch (step) {
    case AuthStepType.CHALLENGE: {
      const algorithm = reader.u8("algorithm");
      const id = reader.u32("challenge identifier");
      const challenge = reader.bytes8("challenge", MIN_NONCE_BYTES, MAX_NONCE_BYTES);
      const serverName = reader.name("server name");
      message = { step, algorithm, id, challenge, serverName };
      break;
    }
    case AuthStepType.RESPONSE: {
      const id = reader.u32("challenge identifier");
      const flags = reader.u8("flags");
      const clientName = reader.name("client name");
      const clientNonce = reader.bytes8("client nonce", MIN_NONCE_BYTES, MAX_NONCE_BYTES);
      const mac = reader.bytes8("mac", MAC_BYTES, MAC_BYTES);
      message = { step, id, flags, clientName, clientNonce, mac };
      break;
    }
    case AuthStepType.SUCCESS: {
      const sessionId = reader.bytes8("session id", SESSION_ID_BYTES, SESSION_ID_BYTES);
      const proof = reader.bytes8("proof", 0, MAC_BYTES);
      if (proof.length !== 0 && proof.length !== MAC_BYTES) {
        throw new AuthMessageError(`SUCCESS proof is ${proof.length} bytes: expected 0 or ${MAC_BYTES}`, reader.offset);
      }
      message = { step, sessionId, proof };
      break;
    }
    case AuthStepType.FAILURE: {
      const length = reader.u16("message length");
      if (length > MAX_FAILURE_MESSAGE_BYTES) {
        throw new AuthMessageError(
          `FAILURE message length ${length} exceeds the limit of ${MAX_FAILURE_MESSAGE_BYTES} bytes`,
          reader.offset - 2,
        );
      }
      message = { step, message: reader.text("message", length) };
      break;
    }
    case AuthStepType.RECHALLENGE: {
      const id = reader.u32("challenge identifier");
      const challenge = reader.bytes8("challenge", MIN_NONCE_BYTES, MAX_NONCE_BYTES);
      message = { step, id, challenge };
      break;
    }
    case AuthStepType.REANSWER: {
      const id = reader.u32("challenge identifier");
      const mac = reader.bytes8("mac", MAC_BYTES, MAC_BYTES);
      message = { step, id, mac };
      break;
    }
    case AuthStepType.HELLO:
      message = { step };
      break;
    default:
      throw new AuthMessageError(`unknown step ${step}: expected 1..7 (CHALLENGE..HELLO)`, 0);
  }
  reader.end();
  return message;
}

export function stepName(step: number): string {
  return AuthStepType[step] ?? `STEP_${step}`;
}

/** Validates a configured or received name: 1..255 UTF-8 bytes, no control characters. */
export function checkName(what: string, name: string): string | undefined {
  if (typeof name !== "string") return `${what} must be a string`;
  const length = encoder.encode(name).length;
  if (length === 0) return `${what} is empty`;
  if (length > MAX_NAME_BYTES) return `${what} is ${length} UTF-8 bytes; the limit is ${MAX_NAME_BYTES}`;
  if (/[\u0000-\u001f\u007f]/.test(name)) return `${what} contains a control character`;
  return undefined;
}

function nameBytes(what: string, name: string): Uint8Array {
  const problem = checkName(what, name);
  if (problem !== undefined) throw new RangeError(problem);
  return encoder.encode(name);
}

/** Collects a message's pieces; AUTH messages are a few hundred bytes, built once per step. */
class Writer {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  u8(value: number): void {
    this.raw(Uint8Array.of(value & 0xff));
  }
  u16(value: number): void {
    this.raw(Uint8Array.of((value >>> 8) & 0xff, value & 0xff));
  }
  u32(value: number): void {
    this.raw(Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff));
  }
  bytes8(what: string, bytes: Uint8Array): void {
    if (bytes.length > 0xff) throw new RangeError(`${what} is ${bytes.length} bytes; a u8-length field holds at most 255`);
    this.u8(bytes.length);
    this.raw(bytes);
  }
  raw(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

class Reader {
  offset = 1;
  constructor(
    private readonly body: Uint8Array,
    private readonly step: string,
  ) {}

  private need(what: string, count: number): void {
    const left = this.body.length - this.offset;
    if (left < count) {
      throw new AuthMessageError(
        `${this.step} truncated: ${what} needs ${count} byte${count === 1 ? "" : "s"} at byte ${this.offset}, ${left} left`,
        this.offset,
      );
    }
  }
  u8(what: string): number {
    this.need(what, 1);
    return this.body[this.offset++]!;
  }
  u16(what: string): number {
    this.need(what, 2);
    const value = (this.body[this.offset]! << 8) | this.body[this.offset + 1]!;
    this.offset += 2;
    return value;
  }
  u32(what: string): number {
    this.need(what, 4);
    const b = this.body;
    const o = this.offset;
    this.offset += 4;
    return ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
  }
  /** A u8 length then that many bytes, the length within [min, max]; returns a copy. */
  bytes8(what: string, min: number, max: number): Uint8Array {
    const length = this.u8(`${what} length`);
    if (length < min || length > max) {
      const expected = min === max ? `${min}` : `${min}..${max}`;
      throw new AuthMessageError(
        `${this.step} ${what} length is ${length} at byte ${this.offset - 1}: expected ${expected}`,
        this.offset - 1,
      );
    }
    this.need(what, length);
    const bytes = this.body.slice(this.offset, this.offset + length);
    this.offset += length;
    return bytes;
  }
  text(what: string, length: number): string {
    this.need(what, length);
    const start = this.offset;
    this.offset += length;
    try {
      return decoder.decode(this.body.subarray(start, start + length));
    } catch {
      throw new AuthMessageError(`${this.step} ${what} at byte ${start} is not valid UTF-8`, start);
    }
  }
  name(what: string): string {
    const length = this.u8(`${what} length`);
    const start = this.offset;
    const name = this.text(what, length);
    const problem = checkName(what, name);
    if (problem !== undefined) throw new AuthMessageError(`${this.step} ${problem} (at byte ${start})`, start);
    return name;
  }
  end(): void {
    if (this.offset !== this.body.length) {
      throw new AuthMessageError(
        `${this.step} has ${this.body.length - this.offset} unexpected trailing byte(s) after byte ${this.offset}`,
        this.offset,
      );
    }
  }
}
