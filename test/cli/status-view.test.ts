import test from "ava";
import { formatStatus } from "../../runtime/cli/status-view.js";
import { StatusReply } from "../../runtime/daemon/gen/control.js";

const NOW = 1_800_000_000_000;
const MiB = 1024n * 1024n;

function sample(): StatusReply {
  return StatusReply.fromPartial({
    procName: "flight_proc",
    procVersion: "1.2",
    pid: 4242,
    startedAtMs: BigInt(NOW - 65_000),
    configFile: "/etc/msf/msf.json",
    configGeneration: 3,
    listen: ["unix:/run/msf/msfd.sock", "tcp://127.0.0.1:7100"],
    services: [
      {
        name: "flight_service",
        state: "running",
        isolation: "process",
        strategy: "round_robin",
        instancesWanted: 2,
        methods: [{ name: "queryFlight", fullName: "flight.flight_service.queryFlight", id: 1, idempotent: false }],
        calls: 1500n,
        errors: 3n,
        instances: [
          { id: "flight_service#0.3", pid: 5001, threadId: 0, state: "ready", startedAtMs: BigInt(NOW - 5_000), restarts: 0, rssBytes: 48n * MiB, heapBytes: 12n * MiB, calls: 800n, errors: 0n, inFlight: 2 },
          { id: "flight_service#1.3", pid: 5002, threadId: 0, state: "ready", startedAtMs: BigInt(NOW - 3_725_000), restarts: 2, rssBytes: 50n * MiB, heapBytes: 0n, calls: 700n, errors: 3n, inFlight: 0, ejected: true },
        ],
      },
      { name: "audit", state: "unloaded", isolation: "worker", strategy: "random", instancesWanted: 1 },
    ],
    procs: [{ name: "legacy", path: "/usr/bin/legacy", state: "running", pid: 6001, startedAtMs: BigInt(NOW - 30_000), restarts: 1, rssBytes: 3n * MiB }],
    alerts: [{ atMs: BigInt(NOW - 12_000), kind: "memory", source: "flight_service#0.2", message: "rss 300 MiB over 256 MiB", value: 300, threshold: 256 }],
    events: { topics: 2, subscriptions: 3, published: 100n, delivered: 99n, dropped: 1n },
  });
}

test("status as plain aligned tables", (t) => {
  t.is(
    formatStatus(sample(), NOW),
    [
      "msfd flight_proc 1.2: pid 4242, up 1m05s, config /etc/msf/msf.json (generation 3)",
      "listen: unix:/run/msf/msfd.sock, tcp://127.0.0.1:7100",
      "",
      "SERVICE         STATE     INSTANCES  ISOLATION  STRATEGY     METHODS  CALLS  ERRORS",
      "flight_service  running         2/2  process    round_robin        1   1500       3",
      "audit           unloaded        0/1  worker     random             0      0       0",
      "",
      "INSTANCE             PID  STATE          UPTIME  RESTARTS       RSS      HEAP  CALLS  ERRORS  IN-FLIGHT",
      "flight_service#0.3  5001  ready              5s         0  48.0 MiB  12.0 MiB    800       0          2",
      "flight_service#1.3  5002  ready,ejected   1h02m         2  50.0 MiB         -    700       3          0",
      "",
      "PROC     PID  STATE    UPTIME  RESTARTS      RSS  PATH",
      "legacy  6001  running     30s         1  3.0 MiB  /usr/bin/legacy",
      "",
      "ALERT   AGE      SOURCE              MESSAGE",
      "memory  12s ago  flight_service#0.2  rss 300 MiB over 256 MiB",
      "",
      "events: 2 topics, 3 subscriptions, 100 published, 99 delivered, 1 dropped",
      "",
    ].join("\n"),
  );
});

test("worker instances show their thread; empty sections are left out", (t) => {
  const status = StatusReply.fromPartial({
    procName: "p",
    pid: 1,
    startedAtMs: BigInt(NOW - 1000),
    configFile: "/x/msf.json",
    configGeneration: 1,
    services: [
      {
        name: "s",
        state: "running",
        isolation: "worker",
        strategy: "round_robin",
        instancesWanted: 1,
        instances: [{ id: "s#0.1", pid: 1, threadId: 7, state: "ready", startedAtMs: BigInt(NOW - 1000), heapBytes: 1024n * 1024n }],
      },
    ],
  });
  const text = formatStatus(status, NOW);
  t.regex(text, /^s#0\.1 \(thread 7\)\s+1\s+ready/m);
  t.false(text.includes("PROC"));
  t.false(text.includes("ALERT"));
  t.false(text.includes("events:"));
  t.false(text.includes("listen:"));
});

test("no services, and colours only on request", (t) => {
  const status = StatusReply.fromPartial({ procName: "p", pid: 1, configFile: "/x/msf.json" });
  t.regex(formatStatus(status, NOW), /\n\nno services\n$/);
  const coloured = formatStatus(sample(), NOW, true);
  t.true(coloured.includes("\u001b[32mrunning\u001b[0m"));
  t.true(coloured.includes("\u001b[31mready,ejected\u001b[0m"));
  t.false(formatStatus(sample(), NOW).includes("\u001b["));
});
