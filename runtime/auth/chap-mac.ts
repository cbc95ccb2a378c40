import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { AuthKey } from "./auth-key.js";

/**
 * The MAC inputs of the handshake (docs/auth.md, "HMAC inputs").
 *
 * Every MAC is HMAC-SHA256 under the client's derived key over a list of fields, each written
 * as a u16 big-endian length then its bytes, so no two different field lists give the same input.
 * The first field is a label naming the protocol version and the role/direction of the MAC:
 * a server's proof and a client's answer never share a label, so one can never be replayed as the
 * other even over identical nonces (CHAP reflection).
 */

export const LABEL_CLIENT_RESPONSE = "msf-chap-v1 client response";
export const LABEL_SERVER_PROOF = "msf-chap-v1 server proof";
export const LABEL_CLIENT_REANSWER = "msf-chap-v1 client reanswer";
export const LABEL_SESSION = "msf-chap-v1 session";

export interface HandshakeTranscript {
  readonly id: number;
  readonly challenge: Uint8Array;
  readonly serverName: string;
  readonly clientName: string;
  readonly clientNonce: Uint8Array;
  readonly flags: number;
}

/** The client's answer to CHALLENGE. */
export function clientResponseMac(key: AuthKey, t: HandshakeTranscript): Uint8Array {
  return mac(key, [LABEL_CLIENT_RESPONSE, u32(t.id), t.challenge, t.serverName, t.clientName, t.clientNonce, Uint8Array.of(t.flags)]);
}

/** The server's proof in SUCCESS (mutual mode): it knows the client's key and saw the client's nonce. */
export function serverProofMac(key: AuthKey, t: HandshakeTranscript, sessionId: Uint8Array): Uint8Array {
  return mac(key, [LABEL_SERVER_PROOF, u32(t.id), t.challenge, t.serverName, t.clientName, t.clientNonce, Uint8Array.of(t.flags), sessionId]);
}

/** The client's answer to RECHALLENGE, bound to the session it keeps alive. */
export function clientReanswerMac(
  key: AuthKey,
  id: number,
  challenge: Uint8Array,
  serverName: string,
  clientName: string,
  sessionId: Uint8Array,
): Uint8Array {
  return mac(key, [LABEL_CLIENT_REANSWER, u32(id), challenge, serverName, clientName, sessionId]);
}

/**
 * The session key: HKDF-SHA256 with the client's key as input keying material, both nonces as
 * salt, and the session id and both names as info. Only the two peers can compute it.
 */
export function sessionKey(key: AuthKey, t: HandshakeTranscript, sessionId: Uint8Array): Uint8Array {
  const salt = concat([t.challenge, t.clientNonce]);
  const info = fields([LABEL_SESSION, sessionId, t.serverName, t.clientName]);
  return new Uint8Array(hkdfSync("sha256", AuthKey.bytesOf(key), salt, info, 32));
}

/** Constant-time equality of two MACs; unequal lengths are unequal (and only length leaks). */
export function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function mac(key: AuthKey, parts: readonly (string | Uint8Array)[]): Uint8Array {
  return new Uint8Array(createHmac("sha256", AuthKey.bytesOf(key)).update(fields(parts)).digest());
}

const encoder = new TextEncoder();

function fields(parts: readonly (string | Uint8Array)[]): Uint8Array {
  const encoded = parts.map((part) => (typeof part === "string" ? encoder.encode(part) : part));
  const out = new Uint8Array(encoded.reduce((sum, part) => sum + 2 + part.length, 0));
  let offset = 0;
  for (const part of encoded) {
    out[offset] = part.length >>> 8;
    out[offset + 1] = part.length & 0xff;
    out.set(part, offset + 2);
    offset += 2 + part.length;
  }
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function u32(value: number): Uint8Array {
  return Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}
