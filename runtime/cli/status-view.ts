import type { InstanceStatus, StatusReply } from "../daemon/gen/control.js";
import { formatBytes, formatDuration, formatTable, type Cell, type Style } from "./table.js";

/**
 * `msf status` for people: a heading line, then one table each for services, instances,
 * supervised processes and recent alerts (omitted when empty), and the events counters.
 * `now` (ms since the epoch) is when the reply was received: uptimes and alert ages count to it.
 */
export function formatStatus(status: StatusReply, now: number, color = false): string {
  const options = { color };
  const sections: string[] = [heading(status, now)];
  if (status.listen.length > 0) sections[0] += `\nlisten: ${status.listen.join(", ")}`;

  if (status.services.length === 0) {
    sections.push("no services");
  } else {
    sections.push(
      formatTable(
        [
          { header: "SERVICE" },
          { header: "STATE" },
          { header: "INSTANCES", align: "right" },
          { header: "ISOLATION" },
          { header: "STRATEGY" },
          { header: "METHODS", align: "right" },
          { header: "CALLS", align: "right" },
          { header: "ERRORS", align: "right" },
        ],
        status.services.map((service) => [
          service.name,
          styled(service.state),
          `${service.instances.filter((instance) => instance.state === "ready").length}/${service.instancesWanted}`,
          service.isolation,
          service.strategy,
          String(service.methods.length),
          service.calls.toString(),
          errorsCell(service.errors),
        ]),
        options,
      ),
    );
  }

  const instances = status.services.flatMap((service) => service.instances);
  if (instances.length > 0) {
    sections.push(
      formatTable(
        [
          { header: "INSTANCE" },
          { header: "PID", align: "right" },
          { header: "STATE" },
          { header: "UPTIME", align: "right" },
          { header: "RESTARTS", align: "right" },
          { header: "RSS", align: "right" },
          { header: "HEAP", align: "right" },
          { header: "CALLS", align: "right" },
          { header: "ERRORS", align: "right" },
          { header: "IN-FLIGHT", align: "right" },
        ],
        instances.map((instance) => [
          instanceName(instance),
          String(instance.pid),
          styled(instance.ejected ? `${instance.state},ejected` : instance.state),
          uptime(instance.startedAtMs, now),
          restartsCell(instance.restarts),
          formatBytes(instance.rssBytes),
          formatBytes(instance.heapBytes),
          instance.calls.toString(),
          errorsCell(instance.errors),
          String(instance.inFlight),
        ]),
        options,
      ),
    );
  }

  if (status.procs.length > 0) {
    sections.push(
      formatTable(
        [
          { header: "PROC" },
          { header: "PID", align: "right" },
          { header: "STATE" },
          { header: "UPTIME", align: "right" },
          { header: "RESTARTS", align: "right" },
          { header: "RSS", align: "right" },
          { header: "PATH" },
        ],
        status.procs.map((proc) => [
          proc.name,
          proc.pid === 0 ? "-" : String(proc.pid),
          styled(proc.state),
          uptime(proc.startedAtMs, now),
          restartsCell(proc.restarts),
          formatBytes(proc.rssBytes),
          proc.path,
        ]),
        options,
      ),
    );
  }

  if (status.alerts.length > 0) {
    sections.push(
      formatTable(
        [{ header: "ALERT" }, { header: "AGE" }, { header: "SOURCE" }, { header: "MESSAGE" }],
        status.alerts.map((alert) => [{ text: alert.kind, style: "red" }, `${formatDuration(now - Number(alert.atMs))} ago`, alert.source, alert.message]),
        options,
      ),
    );
  }

  const events = status.events;
  if (events !== undefined) {
    sections.push(
      `events: ${events.topics} topics, ${events.subscriptions} subscriptions, ${events.published} published, ` +
        `${events.delivered} delivered, ${events.dropped} dropped`,
    );
  }
  return `${sections.join("\n\n")}\n`;
}

function heading(status: StatusReply, now: number): string {
  const version = status.procVersion === "" ? "" : ` ${status.procVersion}`;
  return (
    `msfd ${status.procName}${version}: pid ${status.pid}, up ${uptime(status.startedAtMs, now)}, ` +
    `config ${status.configFile} (generation ${status.configGeneration})`
  );
}

/** "<id>" with ", thread <n>" for a worker: the pid alone does not tell instances of one process apart. */
function instanceName(instance: InstanceStatus): string {
  return instance.threadId === 0 ? instance.id : `${instance.id} (thread ${instance.threadId})`;
}

function uptime(startedAtMs: bigint, now: number): string {
  return startedAtMs === 0n ? "-" : formatDuration(now - Number(startedAtMs));
}

const STATE_STYLES: Readonly<Record<string, Style>> = {
  ready: "green",
  running: "green",
  starting: "yellow",
  draining: "yellow",
  unloaded: "dim",
  stopped: "dim",
  crashed: "red",
  failed: "red",
};

function styled(state: string): Cell {
  const base = state.split(",")[0]!;
  return { text: state, style: state.includes("ejected") ? "red" : STATE_STYLES[base] };
}

function errorsCell(errors: bigint): Cell {
  return { text: errors.toString(), style: errors > 0n ? "red" : undefined };
}

function restartsCell(restarts: number): Cell {
  return { text: String(restarts), style: restarts > 0 ? "yellow" : undefined };
}
