// The benchmark's arithmetic: medians over rounds, percentiles, ratios to raw, target checks.
import test from "ava";
import { checkTargets, formatTable, median, summarizeRows, type Measurement } from "../../bench/report.js";
import { baselineOf, roundScenarios, scenarioKey } from "../../bench/rows.js";

function measurement(callsPerSecond: number, p50Us: number, rssMb: number): Measurement {
  return { callsPerSecond, p50Us, p99Us: p50Us * 3, calls: callsPerSecond * 3, seconds: 3, serverPeakRssBytes: rssMb * 1024 * 1024 };
}

test("median of odd and even counts", (t) => {
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 3, 2]), 2.5);
});

test("rounds interleave implementations, each round rotated; blocking calls only at 1 in flight", (t) => {
  const keys = roundScenarios(["raw", "msf", "msf-sync", "grpc"], ["unix"]).map(scenarioKey);
  t.deepEqual(keys, ["raw/unix/1", "msf/unix/1", "msf-sync/unix/1", "grpc/unix/1", "raw/unix/64", "msf/unix/64", "grpc/unix/64"]);
  const second = roundScenarios(["raw", "msf", "msf-sync", "grpc"], ["unix"], 1).map(scenarioKey);
  t.deepEqual(second, ["msf/unix/1", "msf-sync/unix/1", "grpc/unix/1", "raw/unix/1", "msf/unix/64", "grpc/unix/64", "raw/unix/64"]);
});

test("raw and grpc have no datagram rows; msf-auth runs over unix and tcp only", (t) => {
  const kinds = ["raw", "msf", "msf-sync", "msf-auth", "grpc"] as const;
  t.deepEqual(roundScenarios(kinds, ["udp", "netlink"]).map(scenarioKey), [
    "msf/udp/1",
    "msf-sync/udp/1",
    "msf/udp/64",
    "msf/netlink/1",
    "msf-sync/netlink/1",
    "msf/netlink/64",
  ]);
  t.deepEqual(roundScenarios(kinds, ["tcp"]).map(scenarioKey), [
    "raw/tcp/1",
    "msf/tcp/1",
    "msf-sync/tcp/1",
    "msf-auth/tcp/1",
    "grpc/tcp/1",
    "raw/tcp/64",
    "msf/tcp/64",
    "msf-auth/tcp/64",
    "grpc/tcp/64",
  ]);
  t.deepEqual(roundScenarios(["raw", "grpc"], ["udp"]), []);
});

test("udp and netlink rows divide by raw over unix, msf-auth rows by msf of their transport", (t) => {
  t.deepEqual(baselineOf("msf", "udp"), { kind: "raw", transport: "unix" });
  t.deepEqual(baselineOf("msf-sync", "netlink"), { kind: "raw", transport: "unix" });
  t.deepEqual(baselineOf("msf-auth", "tcp"), { kind: "msf", transport: "tcp" });
  t.deepEqual(baselineOf("grpc", "tcp"), { kind: "raw", transport: "tcp" });
  const scenarios = [...roundScenarios(["raw", "msf", "msf-auth"], ["unix", "tcp", "udp", "netlink"])];
  const measured = new Map<string, Measurement[]>([
    ["raw/unix/64", [measurement(60_000, 900, 60)]],
    ["raw/tcp/64", [measurement(50_000, 1000, 60)]],
    ["msf/tcp/64", [measurement(40_000, 1000, 80)]],
    ["msf-auth/tcp/64", [measurement(39_000, 1000, 80)]],
    ["msf/udp/64", [measurement(30_000, 1500, 70)]],
    ["msf/netlink/64", [measurement(42_000, 1200, 70)]],
  ]);
  const rows = summarizeRows(scenarios, measured);
  const lines = formatTable(rows).split("\n");
  const line = (prefix: RegExp): string => lines.find((text) => prefix.test(text)) ?? "";
  t.regex(line(/^msf\s+udp\s+64/), /\s30,000\s+0\.50\s.*\sraw unix$/);
  t.regex(line(/^msf\s+netlink\s+64/), /\s42,000\s+0\.70\s.*\sraw unix$/);
  t.regex(line(/^msf-auth\s+tcp\s+64/), /\s39,000\s+0\.97\s.*\smsf tcp$/);
  const checks = new Map(checkTargets(rows).map((check) => [check.target, check]));
  t.false(checks.get("msf udp 64 in flight: calls/s ×raw unix")!.met);
  t.is(checks.get("msf udp 64 in flight: calls/s ×raw unix")!.measured, 0.5);
  t.true(checks.get("msf netlink 64 in flight: calls/s ×raw unix")!.met);
  t.true(checks.get("msf-auth tcp 64 in flight: calls/s ×msf")!.met);
  t.is(checks.get("msf-auth tcp 64 in flight: calls/s ×msf")!.bound, 0.95);
  t.false(checks.has("msf-auth unix 64 in flight: calls/s ×msf"));
});

test("each figure is the median of its rounds, with its ratio to raw of the same transport and in-flight", (t) => {
  const scenarios = roundScenarios(["raw", "msf", "msf-sync"], ["unix"]);
  const measured = new Map<string, Measurement[]>([
    ["raw/unix/1", [measurement(10_000, 100, 50), measurement(9_000, 110, 50), measurement(11_000, 90, 52)]],
    ["msf/unix/1", [measurement(9_000, 105, 60)]],
    ["msf-sync/unix/1", [measurement(6_000, 160, 60)]],
    ["raw/unix/64", [measurement(60_000, 900, 60)]],
    ["msf/unix/64", [measurement(57_000, 950, 70)]],
  ]);
  const rows = summarizeRows(scenarios, measured);
  t.is(rows[0]!.median.callsPerSecond, 10_000);
  t.is(rows[0]!.median.p50Us, 100);
  const table = formatTable(rows).split("\n");
  t.regex(table[3]!, /^msf\s+unix\s+1\s+9,000\s+0\.90\s+105\.0\s+1\.05\s+315\.0\s+1\.05\s+60\.0\s+1\.20\s+raw unix$/);
  const checks = new Map(checkTargets(rows).map((check) => [check.target, check]));
  t.true(checks.get("msf unix 64 in flight: calls/s ×raw")!.met);
  t.true(checks.get("msf unix 1 in flight: p50 ×raw")!.met);
  t.false(checks.get("msf-sync unix 1 in flight: calls/s ×msf async")!.met);
  t.true(checks.get("msf unix 1 in flight: server peak RSS ×raw")!.met);
  t.is(checks.get("msf unix 64 in flight: server peak RSS ×raw")!.measured.toFixed(3), (70 / 60).toFixed(3));
});
