import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import type { BackendStatus } from "./agent/backend.js";
import type { Daemon } from "./daemon.js";
import type { ControlHandlers } from "./gen/control.server.js";
import type { InstanceStatus, MethodInfo, ServiceStatus, StatusReply } from "./gen/control.js";
import type { ServedMethod } from "./host/host-types.js";

/**
 * The control API's handlers (idl/msf/control.proto) over a running Daemon. Status never shows a
 * secret: the config's auth appears nowhere in it.
 */
export function controlHandlers(daemon: Daemon): ControlHandlers {
  return {
    status: () => statusReply(daemon),
    resolve: (request) => {
      const runner = daemon.services.get(request.service);
      const routed = daemon.registry.service(request.service);
      if (runner === undefined || routed === undefined) {
        const known = [...daemon.services.keys()].join(", ") || "none";
        throw new RpcError(Code.NOT_FOUND, `no service named "${request.service}" (services: ${known})`);
      }
      return {
        service: request.service,
        strategy: routed.settings.balance.strategy,
        endpoints: routed.backends.map((backend) => ({ instance: backend.id, endpoint: backend.endpoint })),
        methods: [...routed.methodsById.values()].map((method) => methodInfo(method, routed.isIdempotent(method))),
        hashKey: routed.hashKey === undefined ? "" : `${routed.hashKey.from}:${routed.hashKey.name}`,
      };
    },
    reload: (request) => daemon.reload(request.service === "" ? undefined : request.service),
    load: async (request) => {
      const runner = await daemon.load(request.service);
      return { service: request.service, state: runner.state, message: `${runner.instances().length} instance(s) running` };
    },
    unload: async (request) => {
      const runner = await daemon.unload(request.service);
      return { service: request.service, state: runner.state, message: "instances drained and stopped" };
    },
  };
}

function statusReply(daemon: Daemon): StatusReply {
  const config = daemon.config;
  const routed = new Map(daemon.registry.snapshot().map((service) => [service.name, service]));
  const services: ServiceStatus[] = [...daemon.services.values()].map((runner) => {
    const name = runner.config.name;
    const backends = new Map<string, BackendStatus>((routed.get(name)?.backends ?? []).map((backend) => [backend.id, backend]));
    const instances: InstanceStatus[] = runner.instances().map((info) => {
      const backend = backends.get(info.id);
      return {
        id: info.id,
        index: info.index,
        generation: info.generation,
        pid: info.pid,
        threadId: info.threadId ?? 0,
        endpoint: info.endpoint,
        state: info.state,
        startedAtMs: BigInt(info.startedAt),
        restarts: info.restarts,
        rssBytes: BigInt(info.rssBytes),
        heapBytes: BigInt(Math.round(info.heapBytes)),
        calls: BigInt(backend?.calls ?? 0),
        errors: BigInt(backend?.errors ?? 0),
        inFlight: backend?.inFlight ?? 0,
        weight: backend?.weight ?? 0,
        ejected: backend !== undefined && backend.state !== "active",
      };
    });
    const entry = daemon.registry.service(name);
    const methods: MethodInfo[] = entry === undefined ? [] : [...entry.methodsById.values()].map((method) => methodInfo(method, entry.isIdempotent(method)));
    return {
      name,
      state: runner.state,
      module: runner.config.module,
      isolation: runner.config.isolation,
      strategy: runner.config.balance.strategy,
      instancesWanted: runner.config.instances,
      instances,
      methods,
      calls: instances.reduce((sum, instance) => sum + instance.calls, 0n),
      errors: instances.reduce((sum, instance) => sum + instance.errors, 0n),
      spareReady: runner.spareReady,
    };
  });
  const stats = daemon.bus.stats();
  return {
    procName: config.proc.name,
    procVersion: config.proc.version ?? "",
    pid: process.pid,
    startedAtMs: BigInt(daemon.startedAt),
    configFile: config.file,
    configGeneration: daemon.generation,
    listen: [...daemon.listen],
    services,
    procs: [...daemon.procs.values()].map((runner) => {
      const info = runner.info();
      return {
        name: info.name,
        path: info.path,
        state: info.state,
        pid: info.pid,
        startedAtMs: BigInt(info.startedAt),
        restarts: info.restarts,
        rssBytes: BigInt(info.rssBytes),
      };
    }),
    alerts: daemon.alerts.list().map((alert) => ({
      atMs: BigInt(alert.at),
      kind: alert.kind,
      source: alert.source,
      message: alert.message,
      value: alert.value ?? 0,
      threshold: alert.threshold ?? 0,
    })),
    events: {
      topics: new Set(stats.subscriptions.map((subscription) => subscription.topic)).size,
      subscriptions: stats.subscriptions.length,
      published: BigInt(stats.published),
      delivered: BigInt(stats.delivered),
      dropped: BigInt(stats.dropped),
    },
  };
}

function methodInfo(method: ServedMethod, idempotent: boolean): MethodInfo {
  return { name: method.name, fullName: method.fullName, id: method.id, idempotent };
}
