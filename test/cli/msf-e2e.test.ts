// The msf CLI against a real msfd (child process, the flight example as its plugin): every
// command, its output and its exit status.
import test from "ava";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  FLIGHT_REPLY,
  FLIGHT_REQUEST,
  killAtEnd,
  makeTempDir,
  removeDir,
  runMsf,
  spawnMsf,
  startMsfd,
  writeFlightConfig,
  writeSecrets,
  type Msfd,
} from "./cli-fixtures.js";

let dir: string;
let config: string;
let msfd: Msfd | undefined;

test.before(async () => {
  dir = makeTempDir();
  config = writeFlightConfig(dir);
  msfd = await startMsfd(config);
});

test.after.always(async () => {
  await msfd?.stop();
  removeDir(dir);
});

const msf = (...args: string[]) => runMsf(["-c", config, ...args]);

test("status: readable tables of services and instances", async (t) => {
  const { code, stdout, stderr } = await msf("status");
  t.is(code, 0, stderr);
  t.regex(stdout, /^msfd cli_test: pid \d+, up \S+, config .*msf\.json \(generation \d+\)$/m);
  t.regex(stdout, /^SERVICE\s+STATE\s+INSTANCES\s+ISOLATION\s+STRATEGY\s+METHODS\s+CALLS\s+ERRORS$/m);
  t.regex(stdout, /^flight_service\s+running\s+1\/1\s+worker\s+round_robin\s+1\s+\d+\s+\d+$/m);
  t.regex(stdout, /^flight_service#0\.\d+ \(thread \d+\)\s+\d+\s+ready\s+/m);
  t.regex(stdout, /^events: \d+ topics, \d+ subscriptions/m);
  t.false(stdout.includes("\u001b["), "no colours when stdout is not a terminal");
});

test("status --json: the StatusReply, with ./msf.json read when no -c is given", async (t) => {
  const { code, stdout, stderr } = await runMsf(["status", "--json"], { cwd: dir });
  t.is(code, 0, stderr);
  const status = JSON.parse(stdout) as { procName: string; listen: string[]; services: { name: string; state: string; instances: { state: string }[]; methods: { name: string }[] }[] };
  t.is(status.procName, "cli_test");
  t.is(status.listen[0], `unix:${join(dir, "run", "msfd.sock")}`);
  t.is(status.services[0]!.name, "flight_service");
  t.is(status.services[0]!.instances[0]!.state, "ready");
  t.deepEqual(
    status.services[0]!.methods.map((method) => method.name),
    ["queryFlight"],
  );
});

test("call: the reply, pretty; --json on one line; the method matched loosely", async (t) => {
  const pretty = await msf("call", "flight_service.queryFlight", FLIGHT_REQUEST);
  t.is(pretty.code, 0, pretty.stderr);
  t.deepEqual(JSON.parse(pretty.stdout), FLIGHT_REPLY);
  t.is(pretty.stdout, `${JSON.stringify(FLIGHT_REPLY, undefined, 2)}\n`);
  const line = await msf("call", "flight_service.QueryFlight", '{"name":"eve"}', "--json", "-m", "user=eve");
  t.is(line.code, 0, line.stderr);
  t.is(line.stdout, '{"errcode":-1,"errmsg":"invalid user"}\n');
});

test("call: the request from stdin", async (t) => {
  const fromStdin = await runMsf(["-c", config, "call", "flight_service.queryFlight", "-", "--json"], { input: FLIGHT_REQUEST });
  t.is(fromStdin.code, 0, fromStdin.stderr);
  t.deepEqual(JSON.parse(fromStdin.stdout), FLIGHT_REPLY);
});

test("call: an unknown method lists the available ones (exit 1)", async (t) => {
  const { code, stdout, stderr } = await msf("call", "flight_service.bookFlight", "{}");
  t.is(code, 1);
  t.is(stdout, "");
  t.regex(stderr, /^msf: service "flight_service" has no method "bookFlight"; its methods:\n {2}flight_service\.queryFlight {2}\(flight\.flight_service\.queryFlight\)\n$/);
});

test("call: an unknown service names the loaded ones (exit 1)", async (t) => {
  const { code, stderr } = await msf("call", "hotel_service.book", "{}");
  t.is(code, 1);
  t.regex(stderr, /^msf: \[NOT_FOUND\] .*hotel_service.*flight_service/);
});

test("usage errors exit 2 with the usage; --help documents the exit codes", async (t) => {
  const none = await msf();
  t.is(none.code, 2);
  t.regex(none.stderr, /^msf: no command given\n\nmsf <command> \[options\]/);
  t.regex(none.stderr, /Exit status:\n {2}0 {2}ok\n {2}1 /);
  const badJson = await msf("call", "flight_service.queryFlight", "{name:");
  t.is(badJson.code, 2);
  t.regex(badJson.stderr, /^msf: request is not valid JSON/);
  const help = await runMsf(["--help"]);
  t.is(help.code, 0);
  t.regex(help.stdout, /Commands:[\s\S]*msf call <method> \[request\][\s\S]*Exit status:[\s\S]*3 {2}msfd is unreachable[\s\S]*4 {2}authentication failed/);
});

test("no daemon at the control address: exit 3", async (t) => {
  const { code, stdout, stderr } = await runMsf(["--control", `unix:${join(dir, "nothing.sock")}`, "status"]);
  t.is(code, 3);
  t.is(stdout, "");
  t.regex(stderr, /^msf: cannot reach msfd: no control socket at .*nothing\.sock \(ENOENT; from --control\)\. Is msfd running\?\n$/);
});

test("wrong credentials: exit 4, and the secret is never printed", async (t) => {
  const wrong = writeSecrets(dir, "wrong.json", { msf: "not-the-cookie-secret" });
  const { code, stdout, stderr } = await msf("status", "--secrets-file", wrong);
  t.is(code, 4);
  t.is(stdout, "");
  t.regex(stderr, /^msf: \[UNAUTHENTICATED\] /);
  t.false(stderr.includes("not-the-cookie-secret"));
});

test.serial("unload stops the service (calls fail, exit 1), load brings it back", async (t) => {
  const unloaded = await msf("unload", "flight_service");
  t.is(unloaded.code, 0, unloaded.stderr);
  t.regex(unloaded.stdout, /^unloaded flight_service: unloaded/);
  // msfd answered (the service is not there): the operation failed, msfd is reachable.
  const call = await msf("call", "flight_service.queryFlight", FLIGHT_REQUEST);
  t.is(call.code, 1);
  t.regex(call.stderr, /^msf: /);
  const loaded = await msf("load", "flight_service");
  t.is(loaded.code, 0, loaded.stderr);
  t.regex(loaded.stdout, /^loaded flight_service: running/);
  const again = await msf("call", "flight_service.queryFlight", FLIGHT_REQUEST);
  t.is(again.code, 0, again.stderr);
  t.deepEqual(JSON.parse(again.stdout), FLIGHT_REPLY);
});

test.serial("reload: what changed; an invalid config is refused (exit 1) and the old one keeps serving", async (t) => {
  const same = await msf("reload");
  t.is(same.code, 0, same.stderr);
  t.regex(same.stdout, /^reloaded config: nothing changed \(config generation \d+\)\n {2}unchanged: flight_service\n$/);
  const saved = join(dir, "msf.json.good");
  copyFileSync(config, saved);
  writeFlightConfig(dir, {}, { instances: "two" });
  const refused = await msf("reload", "--json");
  t.is(refused.code, 1);
  t.is(refused.stdout, "");
  t.regex(refused.stderr, /^msf: \[FAILED_PRECONDITION\] [\s\S]*instances/);
  const call = await msf("call", "flight_service.queryFlight", FLIGHT_REQUEST);
  t.is(call.code, 0, call.stderr);
  writeFlightConfig(dir, {}, { instances: 2 });
  const changed = await msf("reload", "flight_service");
  t.is(changed.code, 0, changed.stderr);
  t.regex(changed.stdout, /^reloaded service flight_service \(config generation \d+\)\n {2}changed: {3}flight_service\n$/);
  const status = await msf("status");
  t.is(status.stdout.match(/^flight_service#\d\.\d+ .* ready /gm)?.length, 2, status.stdout);
  // Back to the config the other tests expect (one instance).
  copyFileSync(saved, config);
  const back = await msf("reload", "--json");
  t.is(back.code, 0, back.stderr);
  t.deepEqual((JSON.parse(back.stdout) as { changed: string[] }).changed, ["flight_service"]);
});

test("events: sub prints what pub sends (text, a file's bytes, stdin lines), in order", async (t) => {
  const sub = await spawnMsf(["-c", config, "events", "sub", "cli.>", "--count", "4", "--json"], { startedWhen: /^subscribed/m });
  killAtEnd(t, sub);
  await sub.output("stderr", /^subscribed to cli\.>$/m);
  const text = await msf("events", "pub", "cli.text", "hello world");
  t.is(text.code, 0, text.stderr);
  t.is(text.stdout, "published 1 event to cli.text\n");
  const file = join(dir, "payload.bin");
  writeFileSync(file, Buffer.from([0, 1, 2, 255]));
  const binary = await msf("events", "pub", "cli.bin", `@${file}`, "--key", "k1", "--json");
  t.is(binary.code, 0, binary.stderr);
  t.deepEqual(JSON.parse(binary.stdout), { topic: "cli.bin", published: 1 });
  const lines = await runMsf(["-c", config, "events", "pub", "cli.lines", "-"], { input: "first\nsecond\n" });
  t.is(lines.code, 0, lines.stderr);
  t.is(lines.stdout, "published 2 events to cli.lines\n");
  const { code, stdout, stderr } = await sub.result;
  t.is(code, 0, stderr);
  t.deepEqual(
    stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as unknown),
    [
      { topic: "cli.text", key: "", payload: "hello world" },
      { topic: "cli.bin", key: "k1", payloadBase64: Buffer.from([0, 1, 2, 255]).toString("base64") },
      { topic: "cli.lines", key: "", payload: "first" },
      { topic: "cli.lines", key: "", payload: "second" },
    ],
  );
});

test("events sub: plain lines; SIGINT ends it with exit 0", async (t) => {
  const sub = await spawnMsf(["-c", config, "events", "sub", "plain.topic"], { startedWhen: /^subscribed/m });
  killAtEnd(t, sub);
  await sub.output("stderr", /^subscribed to plain\.topic$/m);
  const pub = await msf("events", "pub", "plain.topic", '{"seat":"12A"}');
  t.is(pub.code, 0, pub.stderr);
  await sub.output("stdout", /\n/);
  sub.process.kill("SIGINT");
  const { code, stdout } = await sub.result;
  t.is(code, 0);
  t.is(stdout, 'plain.topic {"seat":"12A"}\n');
});

test("bench: calls/s, latency percentiles, errors by code", async (t) => {
  const { code, stdout, stderr } = await msf("bench", "flight_service.queryFlight", FLIGHT_REQUEST, "-c", "2", "-d", "0.4", "--json");
  t.is(code, 0, stderr);
  const result = JSON.parse(stdout) as { calls: number; ok: number; errors: Record<string, number>; callsPerSecond: number; concurrency: number; latencyMs: { p50: number; p99: number; max: number } };
  t.true(result.calls > 0);
  t.is(result.ok, result.calls);
  t.deepEqual(result.errors, {});
  t.is(result.concurrency, 2);
  t.true(result.latencyMs.p50 > 0 && result.latencyMs.p50 <= result.latencyMs.p99 && result.latencyMs.p99 <= result.latencyMs.max);
  const text = await msf("bench", "flight_service.queryFlight", FLIGHT_REQUEST, "-c", "1", "-d", "0.2");
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, /^bench flight_service\.queryFlight via unix:.*msfd\.sock: concurrency 1, [\d.]+ s\n {2}calls {5}\d+ \(\d+ calls\/s\)\n {2}ok {8}\d+\n {2}errors {4}0\n {2}latency {3}p50 [\d.]+ ms {2}p99 [\d.]+ ms {2}max [\d.]+ ms\n$/);
});
