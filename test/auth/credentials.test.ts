import test from "ava";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthKey,
  clientHandshake,
  createClientAuth,
  createServerAuth,
  readSecretsFile,
  serverHandshake,
} from "./helpers/imports.js";
import { ALICE_KEY_HEX, ALICE_SECRET, BOB_KEY_HEX, BOB_SECRET, CAROL_SECRET } from "./helpers/fixtures.js";
import { pump } from "./helpers/pump.js";

const dir = mkdtempSync(join(tmpdir(), "msf-auth-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function secretsFile(content: string, mode: number): string {
  const path = join(dir, `secrets-${fileCount++}.json`);
  writeFileSync(path, content, { mode });
  chmodSync(path, mode); // the umask may have dropped bits from `mode`
  return path;
}

test("a secrets file readable by group or others is refused, naming the file, its mode and the fix", (t) => {
  const content = JSON.stringify({ carol: CAROL_SECRET });
  for (const mode of [0o644, 0o640, 0o604, 0o660, 0o606]) {
    const path = secretsFile(content, mode);
    const error = t.throws(() => createServerAuth({ secretsFile: path }));
    t.is(
      error!.message,
      `secrets file ${path} has mode 0${mode.toString(8)}: group or others may access it, so its secrets may ` +
        `already be known; refusing to use it. Fix: chmod 600 ${path}`,
    );
    t.false(error!.message.includes(CAROL_SECRET));
  }
});

test("a 0600 secrets file with secret and derived-key entries is accepted, and its clients authenticate", async (t) => {
  const path = secretsFile(
    JSON.stringify({
      carol: CAROL_SECRET,
      alice: { key: ALICE_KEY_HEX },
      bob: { key: Buffer.from(BOB_KEY_HEX, "hex").toString("base64url") },
    }),
    0o600,
  );
  const auth = createServerAuth({ secretsFile: path, throttle: false });
  t.deepEqual(auth.credentials.names.sort(), ["alice", "bob", "carol"]);
  const clients = [
    createClientAuth({ name: "carol", secret: CAROL_SECRET }),
    createClientAuth({ name: "alice", secret: ALICE_SECRET }),
    createClientAuth({ name: "bob", secret: BOB_SECRET }),
  ];
  for (const client of clients) {
    const result = await pump(serverHandshake(auth, { peerKey: "p" }), clientHandshake(client));
    t.is(result.server.done?.identity, client.name);
    t.is(result.client?.done?.identity, "msf");
  }
  // The derived key works on the client side too, and a 0400 file is fine.
  t.truthy(createServerAuth({ secretsFile: secretsFile(JSON.stringify({ alice: { key: ALICE_KEY_HEX } }), 0o400) }));
  const byKey = await pump(serverHandshake(auth, { peerKey: "p" }), clientHandshake(createClientAuth({ name: "alice", key: ALICE_KEY_HEX })));
  t.is(byKey.server.done?.identity, "alice");
});

test("keys are bound to the name: the same secret under another name does not authenticate", async (t) => {
  t.not(AuthKey.deriveHex("alice", "same"), AuthKey.deriveHex("bob", "same"));
  t.is(AuthKey.deriveHex("alice", "same"), AuthKey.deriveHex("alice", new TextEncoder().encode("same")));
  const auth = createServerAuth({ credentials: { alice: { key: AuthKey.deriveHex("bob", "same") } }, throttle: false });
  const result = await pump(serverHandshake(auth, { peerKey: "p" }), clientHandshake(createClientAuth({ name: "alice", secret: "same" })));
  t.truthy(result.server.fail);
});

test("programmatic credentials take strings and Uint8Arrays; a name in both sources is an error", async (t) => {
  const auth = createServerAuth({ credentials: { bob: BOB_SECRET }, throttle: false });
  const result = await pump(serverHandshake(auth, { peerKey: "p" }), clientHandshake(createClientAuth({ name: "bob", key: BOB_KEY_HEX })));
  t.is(result.server.done?.identity, "bob");
  const path = secretsFile(JSON.stringify({ bob: { key: BOB_KEY_HEX } }), 0o600);
  t.throws(() => createServerAuth({ credentials: { bob: { key: BOB_KEY_HEX } }, secretsFile: path }), {
    message: `name "bob" is given both in the credentials option and in the secrets file ${path}`,
  });
});

test("bad secrets files and entries get clear errors that never quote a secret", (t) => {
  const cases: [string, RegExp][] = [
    [`{"carol": ${JSON.stringify(CAROL_SECRET)}`, /is not valid JSON/],
    [`{"carol": ${CAROL_SECRET}}`, /is not valid JSON/],
    [`[${JSON.stringify(CAROL_SECRET)}]`, /must hold a JSON object \{ "name": "secret", \.\.\. \}, got an array/],
    [`{"carol": 42}`, /entry "carol" must be a secret \(a string\) or \{ "key": "<hex or base64 of the derived key>" \}, got a number/],
    [`{"carol": ""}`, /entry "carol" has an empty secret/],
    [`{"carol": {"key": ${JSON.stringify(CAROL_SECRET)}}}`, /entry "carol" key is not a derived key: expected 32 bytes as 64 hex digits or 43-44 base64 characters/],
    [`{"carol": {"key": "${"ab".repeat(31)}"}}`, /is not a derived key/],
    [`{"carol": {"key": "${ALICE_KEY_HEX}", "secret": ${JSON.stringify(CAROL_SECRET)}}}`, /got an object with fields \["key","secret"\]/],
    [`{"": "x"}`, /name "" in secrets file .* is empty/],
    [`{"a\\nb": "x"}`, /contains a control character/],
    [`{}`, /names no client, so nobody could connect/],
  ];
  for (const [content, expected] of cases) {
    const path = secretsFile(content, 0o600);
    const error = t.throws(() => createServerAuth({ secretsFile: path }), undefined, content);
    t.regex(error!.message, expected, content);
    t.false(error!.message.includes(CAROL_SECRET), `error quotes the secret: ${error!.message}`);
  }
  const missing = join(dir, "nope.json");
  t.throws(() => readSecretsFile(missing), { message: new RegExp(`cannot open secrets file ${missing}: ENOENT`) });
  t.throws(() => readSecretsFile(dir), { message: /is not a regular file|EISDIR/ });
});

test("option errors name the option", (t) => {
  t.throws(() => createServerAuth({}), { message: /needs credentials or a secretsFile/ });
  t.throws(() => createServerAuth({ credentials: { alice: { key: ALICE_KEY_HEX } }, serverName: "" }), { message: "serverName is empty" });
  t.throws(() => createServerAuth({ credentials: { alice: { key: ALICE_KEY_HEX } }, rechallengeTimeoutMs: 0 }), {
    message: "auth option rechallengeTimeoutMs must be a number > 0, got 0",
  });
  t.throws(() => createClientAuth({ name: "alice" }), { message: 'client auth for "alice" needs exactly one of secret and key' });
  t.throws(() => createClientAuth({ name: "alice", secret: "x", key: ALICE_KEY_HEX }), { message: /exactly one of secret and key/ });
  t.throws(() => createClientAuth({ name: "alice", key: new Uint8Array(31) }), { message: 'client auth key for "alice" is 31 bytes: expected 32' });
  t.throws(() => createClientAuth({ name: "", secret: "x" }), { message: "client auth name is empty" });
});
