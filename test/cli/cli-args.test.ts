import test from "ava";
import { parseMetadata } from "../../runtime/cli/arg-values.js";
import { parseArgs } from "../../runtime/cli/cli-args.js";
import { protectStdinDash, rewriteBenchFlags, STDIN_TOKEN } from "../../runtime/cli/cli-argv.js";
import { UsageError } from "../../runtime/cli/cli-errors.js";
import { findMethod, parseMethodRef } from "../../runtime/cli/method-ref.js";

function usageError(t: import("ava").ExecutionContext, argv: string[], message: RegExp): UsageError {
  const error = t.throws(() => parseArgs(argv), { instanceOf: UsageError });
  t.regex(error!.message, message);
  return error!;
}

test("status with global options", (t) => {
  const parsed = parseArgs(["-c", "m.json", "--json", "--timeout", "2500", "status"]);
  t.deepEqual(parsed.command, { name: "status" });
  t.is(parsed.flags.config, "m.json");
  t.true(parsed.flags.json);
  t.is(parsed.flags.timeoutMs, 2500);
  t.is(parsed.flags.control, undefined);
});

test("global options may follow the command", (t) => {
  const parsed = parseArgs(["status", "--control", "unix:/run/c.sock", "--secrets-file", "s.json", "--user", "admin"]);
  t.is(parsed.flags.control, "unix:/run/c.sock");
  t.is(parsed.flags.secretsFile, "s.json");
  t.is(parsed.flags.user, "admin");
  t.false(parsed.flags.json);
});

test("call: method, request, repeatable metadata", (t) => {
  const parsed = parseArgs(["call", "flight_service.queryFlight", '{"name":"bison"}', "-m", "user=ann", "--metadata", "trace=1=2"]);
  t.deepEqual(parsed.command, {
    name: "call",
    method: { service: "flight_service", method: "queryFlight" },
    request: { from: "text", text: '{"name":"bison"}' },
    metadata: { user: "ann", trace: "1=2" },
  });
});

test("call: request defaults to {}, @file and - read elsewhere", (t) => {
  const none = parseArgs(["call", "a.b"]).command;
  t.deepEqual(none.name === "call" && none.request, { from: "text", text: "{}" });
  const file = parseArgs(["call", "a.b", "@req.json"]).command;
  t.deepEqual(file.name === "call" && file.request, { from: "file", path: "req.json" });
  const stdin = parseArgs(["call", "a.b", "-"]).command;
  t.deepEqual(stdin.name === "call" && stdin.request, { from: "stdin" });
});

test("call: a service name with dots splits at the last one", (t) => {
  const parsed = parseArgs(["call", "acme.billing.v2.Charge"]).command;
  t.deepEqual(parsed.name === "call" && parsed.method, { service: "acme.billing.v2", method: "Charge" });
});

test("reload, load, unload", (t) => {
  t.deepEqual(parseArgs(["reload"]).command, { name: "reload", service: undefined });
  t.deepEqual(parseArgs(["reload", "flight_service"]).command, { name: "reload", service: "flight_service" });
  t.deepEqual(parseArgs(["load", "x"]).command, { name: "load", service: "x" });
  t.deepEqual(parseArgs(["unload", "x"]).command, { name: "unload", service: "x" });
});

test("events pub and sub", (t) => {
  t.deepEqual(parseArgs(["events", "pub", "flight.booked", "hello", "--key", "k1"]).command, {
    name: "events pub",
    topic: "flight.booked",
    payload: { from: "text", text: "hello" },
    key: "k1",
  });
  t.deepEqual(parseArgs(["events", "pub", "t", "-"]).command, { name: "events pub", topic: "t", payload: { from: "stdin" }, key: undefined });
  t.deepEqual(parseArgs(["events", "pub", "t", "@p.bin"]).command, { name: "events pub", topic: "t", payload: { from: "file", path: "p.bin" }, key: undefined });
  t.deepEqual(parseArgs(["events", "sub", "flight.>", "-g", "workers", "-n", "3"]).command, { name: "events sub", topic: "flight.>", group: "workers", count: 3 });
  t.deepEqual(parseArgs(["events", "sub", "t"]).command, { name: "events sub", topic: "t", group: "", count: undefined });
});

test("bench: -c after the command is the concurrency, before it the config", (t) => {
  const parsed = parseArgs(["-c", "m.json", "bench", "s.m", '{"a":1}', "-c", "8", "-d", "0.5", "-m", "k=v"]);
  t.is(parsed.flags.config, "m.json");
  t.deepEqual(parsed.command, {
    name: "bench",
    method: { service: "s", method: "m" },
    request: { from: "text", text: '{"a":1}' },
    metadata: { k: "v" },
    concurrency: 8,
    durationMs: 500,
  });
  const defaults = parseArgs(["bench", "s.m", "--config", "x.json"]);
  t.is(defaults.flags.config, "x.json");
  t.like(defaults.command, { name: "bench", concurrency: 16, durationMs: 5000 });
});

test("rewriteBenchFlags touches nothing outside bench and stops at --", (t) => {
  t.deepEqual(rewriteBenchFlags(["-c", "m.json", "status"]), ["-c", "m.json", "status"]);
  t.deepEqual(rewriteBenchFlags(["--timeout", "5", "bench", "-c4", "-c=5", "--", "-c"]), ["--timeout", "5", "bench", "--concurrency=4", "--concurrency=5", "--", "-c"]);
  t.deepEqual(rewriteBenchFlags(["--control", "bench", "status", "-c", "x"]), ["--control", "bench", "status", "-c", "x"]);
  t.deepEqual(protectStdinDash(["events", "pub", "t", "-", "--", "-"]), ["events", "pub", "t", STDIN_TOKEN, "--", "-"]);
});

test("usage errors carry the usage of the command concerned", (t) => {
  const none = usageError(t, [], /no command given/);
  t.regex(none.usage, /msf <command>/);
  t.regex(none.usage, /Exit status:/);
  usageError(t, ["frobnicate"], /Unknown command: frobnicate/);
  const option = usageError(t, ["status", "--frob"], /Unknown argument: frob/);
  t.regex(option.usage, /msf status/);
  const missing = usageError(t, ["call"], /Not enough non-option arguments/);
  t.regex(missing.usage, /msf call <method> \[request\]/);
  usageError(t, ["load"], /Not enough non-option arguments/);
  usageError(t, ["events"], /events needs a subcommand: pub or sub/);
  usageError(t, ["events", "pub", "t"], /Not enough non-option arguments/);
});

test("malformed values are usage errors naming the option", (t) => {
  usageError(t, ["call", "nodot"], /expected <service>\.<method>/);
  usageError(t, ["call", "svc."], /expected <service>\.<method>/);
  usageError(t, ["call", "a.b", "-m", "novalue"], /--metadata "novalue": expected key=value/);
  usageError(t, ["call", "a.b", "-m", "k=1", "-m", "k=2"], /key "k" given twice/);
  usageError(t, ["--timeout", "0", "status"], /--timeout: expected an integer from 1/);
  usageError(t, ["--timeout", "soon", "status"], /--timeout/);
  usageError(t, ["bench", "a.b", "-c", "0"], /--concurrency: expected an integer from 1 to 4096, got 0/);
  usageError(t, ["bench", "a.b", "-d", "-1"], /--duration: expected seconds/);
  usageError(t, ["events", "sub", "t", "-n", "1.5"], /--count: expected an integer/);
  usageError(t, ["-c", "a.json", "-c", "b.json", "status"], /--config given more than once/);
  usageError(t, ["events", "pub", "t", "@"], /expected @<file>/);
});

test("parseMetadata", (t) => {
  t.deepEqual(parseMetadata(undefined), {});
  t.deepEqual(parseMetadata(["a=", "b=x=y"]), { a: "", b: "x=y" });
  t.throws(() => parseMetadata(["=v"]), { instanceOf: UsageError });
});

test("parseMethodRef and findMethod", (t) => {
  t.deepEqual(parseMethodRef("flight_service.queryFlight"), { service: "flight_service", method: "queryFlight" });
  const methods = [
    { name: "QueryFlight", fullName: "flight.flight_service.QueryFlight" },
    { name: "book_seat", fullName: "flight.flight_service.book_seat" },
  ];
  t.is(findMethod(methods, "QueryFlight")?.name, "QueryFlight");
  t.is(findMethod(methods, "queryFlight")?.name, "QueryFlight");
  t.is(findMethod(methods, "query_flight")?.name, "QueryFlight");
  t.is(findMethod(methods, "bookSeat")?.name, "book_seat");
  t.is(findMethod(methods, "flight.flight_service.book_seat")?.name, "book_seat");
  t.is(findMethod(methods, "cancel"), undefined);
  // Ambiguous loosely: no guess.
  t.is(findMethod([{ name: "a_b", fullName: "x.a_b" }, { name: "aB", fullName: "x.aB" }], "ab"), undefined);
});
