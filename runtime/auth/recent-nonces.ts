/**
 * A bounded memory of nonces this process sent, to recognise one coming back (CHAP reflection:
 * a peer that answers our challenge by making us answer it). Shared by all handshakes of a
 * process, so a nonce sent on one connection is recognised when reflected on another.
 * The role labels in every MAC already make a reflected MAC useless; this check refuses the
 * attempt outright and lets it be logged as what it is.
 */
export class RecentNonces {
  readonly #seen = new Set<string>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(nonce: Uint8Array): void {
    const key = Buffer.from(nonce.buffer, nonce.byteOffset, nonce.byteLength).toString("base64");
    this.#seen.add(key);
    if (this.#seen.size > this.#limit) this.#seen.delete(this.#seen.values().next().value as string);
  }

  has(nonce: Uint8Array): boolean {
    return this.#seen.has(Buffer.from(nonce.buffer, nonce.byteOffset, nonce.byteLength).toString("base64"));
  }
}

/** Challenges issued by this process's servers (CHALLENGE and RECHALLENGE). */
export const issuedChallenges = new RecentNonces(4096);
/** Nonces sent by this process's clients (RESPONSE). */
export const sentClientNonces = new RecentNonces(4096);
