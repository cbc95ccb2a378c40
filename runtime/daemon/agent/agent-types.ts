/**
 * The shapes the agent receives from the host (instances and what they serve) and from the
 * config (how a service is balanced), re-exported from where they are defined so the agent's
 * files import them from one place.
 *
 * HashKey for the agent: `metadata:<name>` is a metadata entry; `field:<path>` is a request field
 * — a path of field numbers ("3" or "3.1") for protobuf bodies, a path of proto3 JSON names
 * ("userId" or "user.id") for json and msgpack bodies (hash-key.ts).
 */
export type { InstanceInfo, InstanceState, ServedMethod, ServedService } from "../host/host-types.js";
export type { BalanceConfig, BalanceStrategy, HashKey } from "../config/config-types.js";
