import { DEFAULT_STRATEGY, STRATEGIES } from "./config-defaults.js";
import { childPath } from "./config-path.js";
import { type Fields, type Reader, field, readChoice, readObject } from "./config-reader.js";
import type { BalanceConfig, HashKey } from "./config-types.js";

/**
 * A service's `balance`: `{ "strategy": "consistent_hash", "hash_key": "metadata:user" }`.
 * hash_key says where the key of consistent_hash comes from (a metadata entry, or a field of the
 * request message); it is required by that strategy and refused by every other one, where it
 * would silently do nothing.
 */

const BALANCE_FIELDS = ["strategy", "hash_key"] as const;
const DEFAULT_BALANCE: BalanceConfig = { strategy: DEFAULT_STRATEGY, hashKey: undefined };
// Metadata keys are lower-case ASCII (runtime/metadata.ts). A field is named (json and msgpack
// bodies: the JSON name) or numbered (protobuf bodies, which carry numbers, not names: "field:1",
// "field:3.1" reaching into a nested message); a dot reaches into a nested one.
const HASH_KEY = /^(?:(metadata):([a-z0-9_.-]+)|(field):([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|[1-9][0-9]*(?:\.[1-9][0-9]*)*))$/;
const HASH_KEY_WHAT = '"metadata:<key>" (key of [a-z0-9_.-]), "field:<name>" or "field:<number>"';

export function readBalance(reader: Reader, fields: Fields, parent: string): BalanceConfig {
  const value = field(fields, "balance");
  if (value === undefined) return DEFAULT_BALANCE;
  const path = childPath(parent, "balance");
  const balance = readObject(reader, value, path, "an object with strategy and hash_key", BALANCE_FIELDS);
  if (balance === undefined) return DEFAULT_BALANCE;
  const strategy = readChoice(reader, balance, path, "strategy", STRATEGIES, DEFAULT_STRATEGY);
  const keyPath = childPath(path, "hash_key");
  const raw = field(balance, "hash_key");
  if (strategy !== "consistent_hash") {
    if (raw !== undefined) reader.problems.expected(keyPath, `no hash_key with strategy "${strategy}" (only consistent_hash uses one)`, raw);
    return { strategy, hashKey: undefined };
  }
  const match = typeof raw === "string" ? HASH_KEY.exec(raw) : null;
  if (match === null) {
    reader.problems.expected(keyPath, raw === undefined ? `${HASH_KEY_WHAT} (required by consistent_hash)` : HASH_KEY_WHAT, raw);
    return { strategy, hashKey: undefined };
  }
  const hashKey: HashKey = match[1] === "metadata" ? { from: "metadata", name: match[2]! } : { from: "field", name: match[4]! };
  return { strategy, hashKey };
}
