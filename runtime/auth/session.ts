import { createHmac } from "node:crypto";
import { inspect } from "node:util";
import { macEquals } from "./chap-mac.js";

/** Which peer produced a tagged datagram: tags are direction-bound, so a reflected datagram fails. */
export type TagDirection = "client-to-server" | "server-to-client";

/** Bytes of a datagram authentication tag (HMAC-SHA256 truncated, as in RFC 2104 section 5). */
export const TAG_BYTES = 16;

/**
 * What a successful handshake leaves both peers: a session id (public, for logs and for binding
 * re-challenges) and a session key known only to the two of them, from which per-direction
 * datagram tag keys are derived. Tags authenticate; they do not encrypt.
 *
 * The key stays in a private field; inspect, JSON and string conversion show only the id.
 */
export class Session {
  /** 16 random bytes chosen by the server, as hex. */
  readonly id: string;
  readonly idBytes: Uint8Array;
  readonly #key: Uint8Array;
  readonly #clientToServer: Uint8Array;
  readonly #serverToClient: Uint8Array;

  constructor(idBytes: Uint8Array, key: Uint8Array) {
    this.idBytes = Uint8Array.from(idBytes);
    this.id = Buffer.from(idBytes).toString("hex");
    this.#key = Uint8Array.from(key);
    this.#clientToServer = subkey(this.#key, "client-to-server");
    this.#serverToClient = subkey(this.#key, "server-to-client");
  }

  /** The TAG_BYTES tag of `parts` (concatenated) sent in `direction`. */
  tag(direction: TagDirection, ...parts: Uint8Array[]): Uint8Array {
    const hmac = createHmac("sha256", direction === "client-to-server" ? this.#clientToServer : this.#serverToClient);
    for (const part of parts) hmac.update(part);
    return new Uint8Array(hmac.digest().subarray(0, TAG_BYTES));
  }

  /** True when `tag` is the tag of `parts` sent in `direction`; compared in constant time. */
  verify(direction: TagDirection, tag: Uint8Array, ...parts: Uint8Array[]): boolean {
    return macEquals(this.tag(direction, ...parts), tag);
  }

  /** The raw session key, for a transport that needs its own derivation. Do not log it. */
  static keyOf(session: Session): Uint8Array {
    return session.#key;
  }

  toString(): string {
    return `Session(${this.id})`;
  }
  toJSON(): { id: string } {
    return { id: this.id };
  }
  [inspect.custom](): string {
    return `Session { id: '${this.id}', key: [redacted] }`;
  }
}

function subkey(key: Uint8Array, label: string): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(`msf-chap-v1 tag ${label}`).digest());
}
