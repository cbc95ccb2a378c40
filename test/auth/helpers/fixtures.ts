import {
  AuthKey,
  createClientAuth,
  createServerAuth,
  type ClientAuthOptions,
  type ServerAuthOptions,
} from "../../../runtime/auth/index.js";

/** Secrets the tests use; redaction tests search every output for them. */
export const ALICE_SECRET = "correct horse battery staple";
export const BOB_SECRET = new TextEncoder().encode("bob's raw secret bytes \u0001\u0002");
export const CAROL_SECRET = "carol-s3cret-from-the-file";

/** Derived once per test process: scrypt is deliberately slow. */
export const ALICE_KEY_HEX = AuthKey.deriveHex("alice", ALICE_SECRET);
export const BOB_KEY_HEX = AuthKey.deriveHex("bob", BOB_SECRET);

/** Server credentials by derived key (alice as hex, bob as base64): no scrypt per test. */
export const credentials = {
  alice: { key: ALICE_KEY_HEX },
  bob: { key: Buffer.from(BOB_KEY_HEX, "hex").toString("base64") },
};

export function serverAuth(options: Partial<ServerAuthOptions> = {}) {
  return createServerAuth({ credentials, serverName: "flightd", throttle: false, ...options });
}

/** Clients by derived key (fast); secret-based derivation is covered in credentials.test.ts. */
export function aliceAuth(options: Partial<ClientAuthOptions> = {}) {
  return createClientAuth({ name: "alice", key: ALICE_KEY_HEX, ...options });
}

export function bobAuth(options: Partial<ClientAuthOptions> = {}) {
  return createClientAuth({ name: "bob", key: BOB_KEY_HEX, ...options });
}
