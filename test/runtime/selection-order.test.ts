// Transport selection without connections: the ordering rule (table-driven), locality, target
// parsing and option validation.
import test from "ava";
import { networkInterfaces } from "node:os";
import { Code, RpcError, createChannel } from "msf";
import { resolveAddress, type Endpoint } from "msf/internal";
import { canonicalIp, isLocalEndpoint, thisHost, type HostIdentity } from "../../runtime/client/endpoint-locality.js";
import { DEFAULT_TRANSPORT_PREFERENCE, orderEndpoints, selectionRule, type SelectionRule } from "../../runtime/client/endpoint-order.js";
import { ENDPOINT_BACKOFF_CAP_MS, ENDPOINT_BACKOFF_FIRST_MS, EndpointPool, type PoolEntry } from "../../runtime/client/endpoint-pool.js";
import { parseTarget } from "../../runtime/client/endpoint-target.js";

/** A made-up host: interfaces 10.0.0.5 and fe80::1, named "myhost". */
const host: HostIdentity = { addresses: new Set(["10.0.0.5", "fe80::1"]), names: new Set(["localhost", "myhost"]) };

/** An endpoint as a transport would parse it; built by hand so schemes not registered here (udp, netlink) can be ordered too. */
function endpoint(uri: string): Endpoint {
  return { scheme: uri.slice(0, uri.indexOf(":")), uri };
}

function order(uris: string[], rule: SelectionRule): string[] {
  return orderEndpoints(uris.map(endpoint), rule, (candidate) => isLocalEndpoint(candidate, host)).map((candidate) => candidate.uri);
}

const nearest: SelectionRule = { selection: "nearest", transportPreference: DEFAULT_TRANSPORT_PREFERENCE };

const cases: { name: string; uris: string[]; rule: SelectionRule; expected: string[] }[] = [
  {
    name: "the issue's example: the unix socket, then loopback tcp, then the remote host",
    uris: ["tcp://10.0.0.9:7100", "unix:/run/flight.sock", "tcp://127.0.0.1:7100"],
    rule: nearest,
    expected: ["unix:/run/flight.sock", "tcp://127.0.0.1:7100", "tcp://10.0.0.9:7100"],
  },
  {
    name: "same host: unix (path and abstract), netlink, tcp, udp; remote ones last in the order given",
    uris: [
      "udp://10.20.0.1:53",
      "udp://127.0.0.1:7101",
      "tcp://192.168.1.1:7100",
      "tcp://[::1]:7100",
      "netlink://4242",
      "unix:@flight",
      "unix:/run/flight.sock",
    ],
    rule: nearest,
    expected: [
      "unix:@flight",
      "unix:/run/flight.sock",
      "netlink://4242",
      "tcp://[::1]:7100",
      "udp://127.0.0.1:7101",
      "udp://10.20.0.1:53",
      "tcp://192.168.1.1:7100",
    ],
  },
  {
    name: "this host's own interface addresses, localhost and its name count as local",
    uris: ["tcp://10.0.0.7:1", "tcp://10.0.0.5:1", "tcp://[fe80::1%eth0]:1", "tcp://myhost:1", "tcp://LOCALHOST:1", "tcp://db.example:1"],
    rule: nearest,
    expected: ["tcp://10.0.0.5:1", "tcp://[fe80::1%eth0]:1", "tcp://myhost:1", "tcp://LOCALHOST:1", "tcp://10.0.0.7:1", "tcp://db.example:1"],
  },
  {
    name: "loopback in other spellings: 127/8, IPv4-mapped, uncompressed IPv6, unspecified",
    uris: ["tcp://10.0.0.8:1", "tcp://127.3.4.5:1", "tcp://[::ffff:127.0.0.1]:1", "tcp://[0:0:0:0:0:0:0:1]:1", "tcp://0.0.0.0:1"],
    rule: nearest,
    expected: ["tcp://127.3.4.5:1", "tcp://[::ffff:127.0.0.1]:1", "tcp://[0:0:0:0:0:0:0:1]:1", "tcp://0.0.0.0:1", "tcp://10.0.0.8:1"],
  },
  {
    name: "remote endpoints keep the order given, whatever their transport",
    uris: ["udp://10.9.0.1:1", "tcp://10.9.0.2:1", "udp://10.9.0.3:1"],
    rule: nearest,
    expected: ["udp://10.9.0.1:1", "tcp://10.9.0.2:1", "udp://10.9.0.3:1"],
  },
  {
    name: "a custom preference reorders this host's endpoints; schemes it omits come after it",
    uris: ["unix:/run/a.sock", "netlink://7", "tcp://127.0.0.1:1", "udp://127.0.0.1:2", "tcp://10.1.1.1:1"],
    rule: { selection: "nearest", transportPreference: ["udp", "tcp"] },
    expected: ["udp://127.0.0.1:2", "tcp://127.0.0.1:1", "unix:/run/a.sock", "netlink://7", "tcp://10.1.1.1:1"],
  },
  {
    name: "ordered: exactly as given, remote first if listed first",
    uris: ["tcp://10.9.9.9:1", "udp://127.0.0.1:2", "unix:/run/a.sock"],
    rule: { selection: "ordered", transportPreference: DEFAULT_TRANSPORT_PREFERENCE },
    expected: ["tcp://10.9.9.9:1", "udp://127.0.0.1:2", "unix:/run/a.sock"],
  },
  {
    name: "a scheme nobody ranks (a transport added from outside) comes after the ranked ones",
    uris: ["shm:flight", "tcp://127.0.0.1:1", "unix:/a.sock"],
    rule: nearest,
    expected: ["unix:/a.sock", "tcp://127.0.0.1:1", "shm:flight"],
  },
  { name: "one endpoint stays", uris: ["tcp://10.9.9.9:1"], rule: nearest, expected: ["tcp://10.9.9.9:1"] },
];

for (const { name, uris, rule, expected } of cases) {
  test(`order: ${name}`, (t) => {
    t.deepEqual(order(uris, rule), expected);
  });
}

test("order: endpoints parsed by the real transports (tcp's host field) are ordered the same way", (t) => {
  const uris = ["tcp://10.9.9.9:7100", "tcp://[::1]:7100", "unix:@flight", "tcp://127.0.0.1:7100"];
  const parsed = uris.map((uri) => resolveAddress(uri).endpoint);
  t.deepEqual(
    orderEndpoints(parsed, nearest, (candidate) => isLocalEndpoint(candidate, host)).map((candidate) => candidate.uri),
    ["unix:@flight", "tcp://[::1]:7100", "tcp://127.0.0.1:7100", "tcp://10.9.9.9:7100"],
  );
});

test("locality: every address of this host's interfaces counts as local, a documentation address does not", (t) => {
  const identity = thisHost();
  const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((info) => info.address));
  t.true(addresses.length > 0, "the host has at least a loopback interface");
  for (const address of addresses) {
    const uri = address.includes(":") ? `tcp://[${address}]:7100` : `tcp://${address}:7100`;
    t.true(isLocalEndpoint(resolveAddress(uri).endpoint, identity), uri);
  }
  t.false(isLocalEndpoint(resolveAddress("tcp://203.0.113.9:7100").endpoint, identity));
  t.false(isLocalEndpoint(resolveAddress("tcp://[2001:db8::9]:7100").endpoint, identity));
  t.true(isLocalEndpoint(resolveAddress("tcp://api.localhost:7100").endpoint, identity));
});

test("locality: canonical IP text", (t) => {
  t.is(canonicalIp("0:0:0:0:0:0:0:1"), "::1");
  t.is(canonicalIp("FE80::1%eth0"), "fe80::1");
  t.is(canonicalIp("::ffff:10.1.2.3"), "10.1.2.3");
  t.is(canonicalIp("10.1.2.3"), "10.1.2.3");
  t.is(canonicalIp("example.com"), undefined);
});

test("target: a comma-separated string and an array give the same endpoints; target shows them as given", (t) => {
  const fromString = parseTarget(" unix:/run/a.sock ,tcp://127.0.0.1:7100,  unix:@b");
  const fromArray = parseTarget(["unix:/run/a.sock", "tcp://127.0.0.1:7100", "unix:@b"]);
  const uris = ["unix:/run/a.sock", "tcp://127.0.0.1:7100", "unix:@b"];
  t.deepEqual(
    fromString.endpoints.map((resolved) => resolved.endpoint.uri),
    uris,
  );
  t.deepEqual(
    fromArray.endpoints.map((resolved) => resolved.endpoint.uri),
    uris,
  );
  t.is(fromString.display, " unix:/run/a.sock ,tcp://127.0.0.1:7100,  unix:@b");
  t.is(fromArray.display, "unix:/run/a.sock,tcp://127.0.0.1:7100,unix:@b");
  // The joined form parses back to the same list (what the blocking-call worker receives).
  t.deepEqual(
    parseTarget(fromArray.display).endpoints.map((resolved) => resolved.endpoint.uri),
    uris,
  );
  t.is(createChannel(["unix:/run/a.sock", "tcp://127.0.0.1:7100"]).target, "unix:/run/a.sock,tcp://127.0.0.1:7100");
  t.is(createChannel("unix:///run/a.sock").target, "unix:///run/a.sock");
});

test("target: malformed lists are INVALID_ARGUMENT naming the endpoint and the target", (t) => {
  const invalid = (target: unknown, pattern: RegExp): void => {
    const error = t.throws(() => createChannel(target as string), { instanceOf: RpcError });
    t.is(error?.code, Code.INVALID_ARGUMENT, String(target));
    t.regex(error?.message ?? "", pattern);
  };
  invalid([], /at least one endpoint, got an empty array/);
  invalid("unix:/a.sock,,tcp://127.0.0.1:1", /endpoint 2 of target "unix:\/a.sock,,tcp:\/\/127.0.0.1:1" is empty/);
  invalid("unix:/a.sock,", /endpoint 2 of target "unix:\/a.sock," is empty/);
  invalid(["unix:/a,b.sock"], /endpoint "unix:\/a,b.sock" contains a comma/);
  invalid(["unix:/a.sock", 7], /endpoint 2 of the target array is not a string: 7/);
  invalid(42, /a target must be a URI string, a comma-separated list of URIs or an array of URIs, got 42/);
  invalid("unix:/a.sock,tpc://127.0.0.1:1", /target "unix:\/a.sock,tpc:\/\/127.0.0.1:1": address "tpc:\/\/127.0.0.1:1" has no known transport scheme/);
  invalid("unix:/a.sock,tcp://127.0.0.1:99999", /target ".*": address "tcp:\/\/127.0.0.1:99999" is malformed \(port 99999 is above 65535\)/);
  invalid(["unix:/a.sock", "unix:/a.sock"], /lists "unix:\/a.sock" twice/);
  invalid(["unix:/a.sock", "unix:///a.sock"], /names unix:\/a.sock twice \("unix:\/a.sock" and "unix:\/\/\/a.sock"\)/);
  // A single URI keeps the error it always had (no target prefix).
  invalid("tpc://127.0.0.1:1", /^\[INVALID_ARGUMENT\] address "tpc:\/\/127.0.0.1:1" has no known transport scheme/);
});

test("options: selection and transportPreference are validated", (t) => {
  const target = "unix:/a.sock,tcp://127.0.0.1:1";
  const invalid = (options: object, pattern: RegExp): void => {
    const error = t.throws(() => createChannel(target, options), { instanceOf: RpcError });
    t.is(error?.code, Code.INVALID_ARGUMENT);
    t.regex(error?.message ?? "", pattern);
  };
  invalid({ selection: "closest" }, /selection must be "nearest" or "ordered", got "closest"/);
  invalid({ transportPreference: "tcp" }, /transportPreference must be an array of URI schemes/);
  invalid({ transportPreference: ["tcp", "TCP:"] }, /transportPreference\[1\] must be a URI scheme without the colon/);
  invalid({ transportPreference: ["tcp", "unix", "tcp"] }, /transportPreference lists "tcp" twice/);
  invalid({ selection: "ordered", transportPreference: ["tcp"] }, /transportPreference has no effect with selection "ordered"/);
  t.deepEqual(selectionRule({}, target), { selection: "nearest", transportPreference: ["unix", "netlink", "tcp", "udp"] });
  t.deepEqual(selectionRule({ transportPreference: ["tcp"] }, target), { selection: "nearest", transportPreference: ["tcp"] });
  t.deepEqual(selectionRule({ selection: "ordered" }, target).selection, "ordered");
});

test("pool: a failed endpoint is tried after the others for 1 s doubling to 30 s (±20 %); success clears it", (t) => {
  const target = parseTarget(["tcp://127.0.0.1:7100", "unix:/run/a.sock", "tcp://10.9.9.9:7100"]);
  const pool = new EndpointPool(target, nearest, () => host);
  const uris = (entries: readonly PoolEntry[]): string[] => entries.map((entry) => entry.uri);
  t.deepEqual(uris(pool.entries), ["unix:/run/a.sock", "tcp://127.0.0.1:7100", "tcp://10.9.9.9:7100"]);
  const [unix, local, remote] = pool.entries as [PoolEntry, PoolEntry, PoolEntry];
  const now = 1_000_000;
  t.deepEqual(uris(pool.plan(now)), uris(pool.entries));
  t.is(pool.betterRetryAt(unix), undefined, "nothing is preferred over the first");
  // Consecutive failures: the backoff step doubles from ENDPOINT_BACKOFF_FIRST_MS to ENDPOINT_BACKOFF_CAP_MS.
  const steps = [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000];
  t.is(ENDPOINT_BACKOFF_FIRST_MS, steps[0]);
  t.is(ENDPOINT_BACKOFF_CAP_MS, 30_000);
  for (const step of steps) {
    pool.failed(unix, now);
    t.true(unix.retryAt >= now + step * 0.8 && unix.retryAt <= now + step * 1.2, `step ${step}: retry at +${unix.retryAt - now}`);
  }
  t.deepEqual(uris(pool.plan(now)), ["tcp://127.0.0.1:7100", "tcp://10.9.9.9:7100", "unix:/run/a.sock"], "in backoff: last");
  t.deepEqual(uris(pool.plan(unix.retryAt)), uris(pool.entries), "backoff over: first again");
  t.is(pool.betterRetryAt(local), unix.retryAt);
  t.deepEqual(uris(pool.betterReady(remote, now)), ["tcp://127.0.0.1:7100"]);
  t.deepEqual(uris(pool.betterReady(remote, unix.retryAt)), ["unix:/run/a.sock", "tcp://127.0.0.1:7100"]);
  pool.failed(remote, now);
  pool.succeeded(unix);
  t.is(unix.failures, 0);
  t.deepEqual(uris(pool.plan(now)), ["unix:/run/a.sock", "tcp://127.0.0.1:7100", "tcp://10.9.9.9:7100"], "unix cleared; remote in backoff stays last");
  pool.failed(local, now);
  t.deepEqual(uris(pool.plan(now)), ["unix:/run/a.sock", "tcp://127.0.0.1:7100", "tcp://10.9.9.9:7100"], "those in backoff keep their order among themselves");
  pool.failed(unix, now);
  t.true(unix.retryAt <= now + 1200, "after a success the backoff starts again from the first step");
  const error = pool.unreachable([
    { entry: unix, error: new RpcError(Code.UNAVAILABLE, "cannot connect to unix:/run/a.sock: ENOENT (no such file)") },
    { entry: local, error: new Error("connect ECONNREFUSED") },
  ]);
  t.is(error.code, Code.UNAVAILABLE);
  t.is(
    error.rawMessage,
    'none of the 3 endpoints of target "tcp://127.0.0.1:7100,unix:/run/a.sock,tcp://10.9.9.9:7100" could be reached: ' +
      "cannot connect to unix:/run/a.sock: ENOENT (no such file); tcp://127.0.0.1:7100: connect ECONNREFUSED",
  );
});
