import test from "ava";
import { CliError, ExitCode, UsageError, errorMessage, exitCodeFor } from "../../runtime/cli/cli-errors.js";
import { formatAction, formatReload } from "../../runtime/cli/cmd-admin.js";
import { formatBench } from "../../runtime/cli/cmd-bench.js";
import { eventJson } from "../../runtime/cli/cmd-events.js";
import { LatencyHistogram } from "../../runtime/cli/latency-histogram.js";
import { parsePayloadSource, printableText, showPayload } from "../../runtime/cli/payload.js";
import { parseJsonObject, replyText } from "../../runtime/cli/request-body.js";
import { formatBytes, formatDuration, formatTable } from "../../runtime/cli/table.js";
import { Code } from "../../runtime/code.js";
import { RpcError } from "../../runtime/rpc-error.js";

test("exit codes: usage 2, unreachable 3 only before sending, auth 4, the rest 1", (t) => {
  t.is(exitCodeFor(new UsageError("x")), ExitCode.USAGE);
  t.is(exitCodeFor(new CliError(ExitCode.AUTH, "secrets file unreadable")), 4);
  t.is(exitCodeFor(new CliError(ExitCode.UNREACHABLE, "no socket")), 3);
  t.is(exitCodeFor(new RpcError(Code.UNAVAILABLE, "connect ECONNREFUSED", { unsent: true })), 3);
  // msfd itself answered UNAVAILABLE (no ready instance): the operation failed.
  t.is(exitCodeFor(new RpcError(Code.UNAVAILABLE, "no ready instance")), 1);
  t.is(exitCodeFor(new RpcError(Code.UNAUTHENTICATED, "authentication failed", { unsent: true })), 4);
  t.is(exitCodeFor(new RpcError(Code.UNAUTHENTICATED, "refused")), 4);
  t.is(exitCodeFor(new RpcError(Code.FAILED_PRECONDITION, "msf.json: bad")), 1);
  t.is(exitCodeFor(new RpcError(Code.NOT_FOUND, "no service")), 1);
  t.is(exitCodeFor(new Error("anything else")), 1);
  t.is(exitCodeFor("a string"), 1);
  t.deepEqual(ExitCode, { OK: 0, FAILED: 1, USAGE: 2, UNREACHABLE: 3, AUTH: 4 });
});

test("error messages keep the status code name", (t) => {
  t.is(errorMessage(new RpcError(Code.NOT_FOUND, 'no service named "x"')), '[NOT_FOUND] no service named "x"');
  t.is(errorMessage(new CliError(ExitCode.FAILED, "plain")), "plain");
  t.is(errorMessage(42), "42");
});

test("formatTable aligns columns, right-aligns numbers, trims line ends", (t) => {
  const text = formatTable(
    [{ header: "NAME" }, { header: "CALLS", align: "right" }, { header: "NOTE" }],
    [
      ["a", "5", ""],
      ["longer_name", "12345", "x"],
    ],
  );
  t.is(text, ["NAME         CALLS  NOTE", "a                5", "longer_name  12345  x"].join("\n"));
});

test("formatTable colours only when asked, without shifting columns", (t) => {
  const rows = [[{ text: "ready", style: "green" as const }, "1"]];
  const columns = [{ header: "STATE" }, { header: "N", align: "right" as const }];
  const plain = formatTable(columns, rows);
  t.false(plain.includes("\u001b["));
  const coloured = formatTable(columns, rows, { color: true });
  t.true(coloured.includes("\u001b[32mready\u001b[0m"));
  t.true(coloured.includes("\u001b[1mSTATE\u001b[0m"));
  t.is(coloured.replace(/\u001b\[\d+m/g, ""), plain);
});

test("formatBytes and formatDuration", (t) => {
  t.is(formatBytes(0), "-");
  t.is(formatBytes(512), "512 B");
  t.is(formatBytes(1536), "1.5 KiB");
  t.is(formatBytes(45n * 1024n * 1024n), "45.0 MiB");
  t.is(formatBytes(3 * 1024 ** 3), "3.0 GiB");
  t.is(formatDuration(-5), "0s");
  t.is(formatDuration(850), "850ms");
  t.is(formatDuration(42_000), "42s");
  t.is(formatDuration(5 * 60_000 + 7_000), "5m07s");
  t.is(formatDuration(3 * 3_600_000 + 5 * 60_000), "3h05m");
  t.is(formatDuration(2 * 86_400_000 + 4 * 3_600_000), "2d04h");
});

test("formatReload and formatAction say what changed", (t) => {
  t.is(
    formatReload({ configGeneration: 4, added: ["billing"], removed: [], changed: ["flight_service"], unchanged: ["audit"] }, undefined),
    ["reloaded config (config generation 4)", "  added:     billing", "  changed:   flight_service", "  unchanged: audit", ""].join("\n"),
  );
  t.is(
    formatReload({ configGeneration: 2, added: [], removed: [], changed: [], unchanged: ["flight_service"] }, "flight_service"),
    ["reloaded service flight_service: nothing changed (config generation 2)", "  unchanged: flight_service", ""].join("\n"),
  );
  t.is(formatAction("unloaded", { service: "x", state: "unloaded", message: "instances drained and stopped" }), "unloaded x: unloaded (instances drained and stopped)\n");
  t.is(formatAction("loaded", { service: "x", state: "running", message: "" }), "loaded x: running\n");
});

test("payloads: printable text as itself, anything else as base64", (t) => {
  const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
  t.is(showPayload(encode('{"a":1}')), '{"a":1}');
  t.is(showPayload(encode("tab\tok")), "tab\tok");
  t.is(showPayload(encode("né")), "né");
  t.is(showPayload(encode("two\nlines")), `base64:${Buffer.from("two\nlines").toString("base64")}`);
  t.is(showPayload(Uint8Array.of(0xff, 0x00, 0x41)), "base64:/wBB");
  t.is(printableText(Uint8Array.of(0xc3)), undefined);
  t.deepEqual(eventJson({ topic: "t", key: "", payload: Buffer.from("hi") }), { topic: "t", key: "", payload: "hi" });
  t.deepEqual(eventJson({ topic: "t", key: "k", payload: Buffer.from([1, 2]) }), { topic: "t", key: "k", payloadBase64: "AQI=" });
  t.deepEqual(parsePayloadSource("-"), { from: "stdin" });
  t.deepEqual(parsePayloadSource("@f"), { from: "file", path: "f" });
  t.deepEqual(parsePayloadSource("x@y"), { from: "text", text: "x@y" });
});

test("requests must be JSON objects; replies print pretty or on one line", (t) => {
  t.deepEqual(parseJsonObject('{"name":"bison"}', "request"), { name: "bison" });
  t.throws(() => parseJsonObject("{name:bison}", "request"), { instanceOf: UsageError, message: /request is not valid JSON .*\{name:bison\}/ });
  t.throws(() => parseJsonObject("[1]", "request"), { instanceOf: UsageError, message: /expected a JSON object .* got an array/ });
  t.throws(() => parseJsonObject("null", "request"), { instanceOf: UsageError, message: /got null/ });
  const reply = new TextEncoder().encode('{"errmsg":"success","n":1}');
  t.is(replyText(reply, true), '{\n  "errmsg": "success",\n  "n": 1\n}\n');
  t.is(replyText(reply, false), '{"errmsg":"success","n":1}\n');
  t.is(replyText(new TextEncoder().encode("not json"), true), "not json\n");
});

test("latency histogram: percentiles within 1.1%, exact max", (t) => {
  const histogram = new LatencyHistogram();
  t.is(histogram.percentile(0.5), 0);
  for (let micros = 1; micros <= 10_000; micros++) histogram.record(micros);
  t.is(histogram.count, 10_000);
  t.is(histogram.max, 10_000);
  const near = (actual: number, expected: number): boolean => Math.abs(actual - expected) / expected <= 0.011;
  t.true(near(histogram.percentile(0.5), 5_000), String(histogram.percentile(0.5)));
  t.true(near(histogram.percentile(0.99), 9_900), String(histogram.percentile(0.99)));
  t.true(histogram.percentile(1) <= 10_000);
  const single = new LatencyHistogram();
  single.record(0.2);
  t.is(single.max, 1);
  t.is(single.percentile(0.99), 1);
});

test("formatBench reports rate, latency and errors by code", (t) => {
  const text = formatBench({
    target: "unix:/run/msfd.sock",
    method: "flight_service.queryFlight",
    concurrency: 4,
    elapsedMs: 2000,
    calls: 1000,
    ok: 990,
    errors: { DEADLINE_EXCEEDED: 2, UNAVAILABLE: 8 },
    callsPerSecond: 500,
    latencyMs: { p50: 0.5, p99: 2.25, max: 12.5 },
  });
  t.is(
    text,
    [
      "bench flight_service.queryFlight via unix:/run/msfd.sock: concurrency 4, 2.00 s",
      "  calls     1000 (500 calls/s)",
      "  ok        990",
      "  errors    UNAVAILABLE 8, DEADLINE_EXCEEDED 2",
      "  latency   p50 0.500 ms  p99 2.250 ms  max 12.5 ms",
      "",
    ].join("\n"),
  );
});
