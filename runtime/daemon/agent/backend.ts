import type { InstanceInfo, ServedMethod } from "./agent-types.js";
import { DEFAULT_EJECTION_POLICY, Ejection, type EjectionPolicy } from "./ejection.js";

/** The weight a backend starts at and recovers to (dynamic_weight lowers it; see balancer-dynamic-weight.ts). */
export const FULL_WEIGHT = 100;

export interface BackendSpec {
  /** Unique among the backends of a service: the instance id (`flight_service#0.1`) or the endpoint. */
  readonly id: string;
  readonly service: string;
  readonly endpoint: string;
  /**
   * Its place on consistent_hash's ring: stays the same when an instance is replaced by its next
   * generation (`flight_service#0`), so an upgrade does not move keys. Defaults to `id`.
   */
  readonly slot?: string;
  readonly methods?: readonly ServedMethod[];
  readonly instance?: InstanceInfo;
  readonly ejection?: EjectionPolicy;
}

/**
 * One place calls for a service can go: a ready instance (daemon side) or an endpoint (direct
 * mode). Balancers read it; the caller that sends a call keeps its counters:
 * inFlight++ when sent, --, calls++ and (on failure) errors++ when it completes.
 */
export class Backend {
  readonly id: string;
  readonly service: string;
  readonly endpoint: string;
  readonly slot: string;
  /** What the host reported when it came up; undefined in direct mode. */
  readonly instance: InstanceInfo | undefined;
  /** The methods it serves, by method id. */
  readonly methods: ReadonlyMap<number, ServedMethod>;
  /** Calls sent to it and not completed. */
  inFlight = 0;
  /** Calls completed (either way). */
  calls = 0;
  /** Calls completed with an error (any code). */
  errors = 0;
  /** 1..FULL_WEIGHT: lowered by failures, restored by successes (dynamic_weight). */
  weight = FULL_WEIGHT;
  readonly ejection: Ejection;
  /** Set when it left its service: never picked again; calls in flight complete. */
  removed = false;
  /** When it was added (ms since the epoch). */
  readonly addedAt: number;

  constructor(spec: BackendSpec, now: number = Date.now()) {
    this.id = spec.id;
    this.service = spec.service;
    this.endpoint = spec.endpoint;
    this.slot = spec.slot ?? spec.id;
    this.instance = spec.instance;
    this.methods = new Map((spec.methods ?? []).map((method) => [method.id, method]));
    this.ejection = new Ejection(spec.ejection ?? DEFAULT_EJECTION_POLICY);
    this.addedAt = now;
  }

  status(now: number): BackendStatus {
    const state = this.ejection.state;
    return {
      id: this.id,
      endpoint: this.endpoint,
      state: state.t,
      consecutiveFailures: state.t === "active" ? state.failures : 0,
      ejectedUntil: state.t === "ejected" ? state.until : undefined,
      ejections: this.ejection.ejections,
      inFlight: this.inFlight,
      calls: this.calls,
      errors: this.errors,
      weight: this.weight,
      upMs: now - this.addedAt,
    };
  }
}

/** A backend as `msf status` shows it. */
export interface BackendStatus {
  readonly id: string;
  readonly endpoint: string;
  readonly state: "active" | "ejected" | "probing";
  readonly consecutiveFailures: number;
  /** While ejected: when the probe may go (ms since the epoch). */
  readonly ejectedUntil: number | undefined;
  readonly ejections: number;
  readonly inFlight: number;
  readonly calls: number;
  readonly errors: number;
  readonly weight: number;
  /** How long it has been in the registry, ms. */
  readonly upMs: number;
}
