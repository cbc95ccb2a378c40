import test from "ava";
import { encode as encodeMsgpack } from "@msgpack/msgpack";
import { Backend } from "../../runtime/daemon/agent/backend.js";
import { hashKeyOf } from "../../runtime/daemon/agent/hash-key.js";
import { Registry, type RegistryListener } from "../../runtime/daemon/agent/registry.js";
import { QueryFlightRequest } from "../helpers/flight-messages.js";
import { FakeClock, instanceInfo, servedMethod, servedService } from "./agent-fixtures.js";

const get = servedMethod("flight.flight_service.queryFlight");
const book = servedMethod("flight.flight_service.bookFlight");
const list = servedMethod("flight.flight_service.listFlights", true);
const flight = [servedService("flight.flight_service", [get, book, list])];
const ping = servedMethod("health.health.ping");

function recorder(registry: Registry): string[] {
  const events: string[] = [];
  const listener: RegistryListener = {
    backendAdded: (backend) => events.push(`added ${backend.id}`),
    backendRemoved: (backend) => events.push(`removed ${backend.id}`),
    endpointGone: (endpoint) => events.push(`gone ${endpoint}`),
  };
  registry.subscribe(listener);
  return events;
}

test("up adds a backend per ready instance; down removes it; method ids route to the service", (t) => {
  const clock = new FakeClock();
  const registry = new Registry({ clock: clock.read });
  const events = recorder(registry);
  const a = registry.up(instanceInfo("flight", 0, "unix:/run/flight.0.1.sock"), [...flight, servedService("health.health", [ping])]);
  const b = registry.up(instanceInfo("flight", 1, "unix:/run/flight.1.1.sock"), flight);
  t.true(a instanceof Backend);
  const entry = registry.service("flight")!;
  t.deepEqual(entry.backends, [a, b]);
  t.is(a.slot, "flight#0");
  t.is(a.instance?.pid, process.pid);
  t.deepEqual(registry.services(), ["flight"]);
  t.is(registry.route(get.id)?.service, entry);
  t.is(registry.route(get.id)?.method, get);
  t.is(registry.route(ping.id)?.method, ping, "every service an instance serves routes to it");
  t.is(registry.route(12345), undefined);
  t.is(entry.method("bookFlight"), book);
  t.is(entry.method("flight.flight_service.bookFlight"), book);
  t.is(entry.method("nope"), undefined);

  t.is(registry.down(instanceInfo("flight", 0, "unix:/run/flight.0.1.sock")), a);
  t.true(a.removed);
  t.deepEqual(entry.backends, [b]);
  t.is(registry.route(ping.id), undefined, "a method no remaining instance serves stops routing");
  t.is(registry.route(get.id)?.service, entry);
  t.is(registry.down(instanceInfo("flight", 0, "unix:/run/flight.0.1.sock")), undefined, "a second down is a no-op");
  t.is(registry.down(instanceInfo("other", 0, "unix:/x")), undefined);
  t.deepEqual(events, [
    "added flight#0.1",
    "added flight#1.1",
    "removed flight#0.1",
    "gone unix:/run/flight.0.1.sock",
  ]);
});

test("methods stay known when every instance is down (calls are then UNAVAILABLE, not UNIMPLEMENTED)", (t) => {
  const registry = new Registry();
  const info = instanceInfo("flight", 0, "unix:/run/f.sock");
  registry.up(info, flight);
  registry.down(info);
  const route = registry.route(get.id);
  t.is(route?.service.name, "flight");
  t.deepEqual(route?.service.backends, []);
  t.is(route?.service.pick(undefined, undefined, Date.now()), undefined);
});

test("a new generation replaces the old one through up, then down; an instance reported up twice is replaced", (t) => {
  const registry = new Registry();
  const events = recorder(registry);
  const old = registry.up(instanceInfo("flight", 0, "unix:/run/flight.0.1.sock", 1), flight);
  const next = registry.up(instanceInfo("flight", 0, "unix:/run/flight.0.2.sock", 2), flight);
  t.deepEqual(registry.service("flight")!.backends, [old, next]);
  t.is(old.slot, next.slot, "same ring slot across generations");
  registry.down({ service: "flight", id: old.id });
  const again = registry.up(instanceInfo("flight", 0, "unix:/run/flight.0.2.sock", 2), flight);
  t.deepEqual(registry.service("flight")!.backends, [again]);
  t.true(next.removed);
  t.deepEqual(events, [
    "added flight#0.1",
    "added flight#0.2",
    "removed flight#0.1",
    "gone unix:/run/flight.0.1.sock",
    "added flight#0.2",
    "removed flight#0.2",
  ]);
});

test("configure sets strategy and idempotent methods; an unknown strategy is refused; remove drops the service", (t) => {
  const registry = new Registry();
  registry.configure("flight", {
    balance: { strategy: "consistent_hash", hashKey: { from: "metadata", name: "user" } },
    idempotentMethods: ["bookFlight"],
  });
  registry.up(instanceInfo("flight", 0, "unix:/run/a.sock"), flight);
  const entry = registry.service("flight")!;
  t.is(entry.settings.balance.strategy, "consistent_hash");
  t.deepEqual(entry.hashKey, { from: "metadata", name: "user" });
  t.true(entry.isIdempotent(book), "listed in idempotent_methods");
  t.true(entry.isIdempotent(list), "marked in the .proto");
  t.false(entry.isIdempotent(get));
  const balancer = entry.balancer;
  entry.configure({ balance: { strategy: "consistent_hash", hashKey: undefined }, idempotentMethods: ["flight.flight_service.queryFlight"] });
  t.is(entry.balancer, balancer, "same strategy: the balancer (and its state) is kept");
  t.true(entry.isIdempotent(get));
  t.false(entry.isIdempotent(book));
  t.throws(() => registry.configure("flight", { balance: { strategy: "fastest" as "random", hashKey: undefined }, idempotentMethods: [] }), {
    message: /unknown load-balancing strategy "fastest"/,
  });
  const events = recorder(registry);
  t.true(registry.remove("flight"));
  t.false(registry.remove("flight"));
  t.is(registry.service("flight"), undefined);
  t.is(registry.route(get.id), undefined);
  t.deepEqual(events, ["removed flight#0.1", "gone unix:/run/a.sock"]);
});

test("an instance of an unconfigured service is balanced round robin", (t) => {
  const registry = new Registry();
  registry.up(instanceInfo("x", 0, "unix:/run/x0.sock"), flight);
  registry.up(instanceInfo("x", 1, "unix:/run/x1.sock"), flight);
  const entry = registry.service("x")!;
  t.is(entry.settings.balance.strategy, "round_robin");
  const ids = Array.from({ length: 4 }, () => entry.pick(undefined, undefined, Date.now())!.backend.id);
  t.deepEqual(ids, ["x#0.1", "x#1.1", "x#0.1", "x#1.1"]);
});

test("a method id served by two services routes to the one registered first, then to the other when it is removed", (t) => {
  const registry = new Registry();
  registry.up(instanceInfo("first", 0, "unix:/run/1.sock"), flight);
  registry.up(instanceInfo("second", 0, "unix:/run/2.sock"), flight);
  t.is(registry.route(get.id)?.service.name, "first");
  registry.remove("first");
  t.is(registry.route(get.id)?.service.name, "second");
});

test("the snapshot shows every service with its backends and counters", (t) => {
  const clock = new FakeClock(5000);
  const registry = new Registry({ clock: clock.read });
  registry.configure("flight", { balance: { strategy: "least_inflight", hashKey: undefined }, idempotentMethods: ["queryFlight"] });
  const a = registry.up(instanceInfo("flight", 0, "unix:/run/a.sock"), flight);
  a.inFlight = 2;
  a.calls = 10;
  a.errors = 1;
  clock.advance(1500);
  t.deepEqual(registry.snapshot(), [
    {
      name: "flight",
      strategy: "least_inflight",
      hashKey: undefined,
      idempotentMethods: ["queryFlight"],
      methods: ["flight.flight_service.queryFlight", "flight.flight_service.bookFlight", "flight.flight_service.listFlights"],
      backends: [
        {
          id: "flight#0.1",
          endpoint: "unix:/run/a.sock",
          state: "active",
          consecutiveFailures: 0,
          ejectedUntil: undefined,
          ejections: 0,
          inFlight: 2,
          calls: 10,
          errors: 1,
          weight: 100,
          upMs: 1500,
        },
      ],
    },
  ]);
});

test("hash keys: a metadata entry, a protobuf field by number, a json or msgpack top-level key", (t) => {
  const metadata = new Map([["user", "alice"]]);
  const body = QueryFlightRequest.encode({ name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" }).finish();
  t.is(hashKeyOf({ from: "metadata", name: "user" }, 0, body, metadata), "alice");
  t.is(hashKeyOf({ from: "metadata", name: "other" }, 0, body, metadata), undefined);
  t.is(hashKeyOf({ from: "field", name: "1" }, 0, body, metadata), "bison");
  t.is(hashKeyOf({ from: "field", name: "3" }, 0, body, metadata), "sz");
  t.is(hashKeyOf({ from: "field", name: "9" }, 0, body, metadata), undefined, "absent field");
  t.is(hashKeyOf({ from: "field", name: "name" }, 0, body, metadata), undefined, "a key names no protobuf field");
  const json = new TextEncoder().encode(JSON.stringify({ name: "bison", count: 3, nested: { a: 1 }, none: null }));
  t.is(hashKeyOf({ from: "field", name: "name" }, 1, json, metadata), "bison");
  t.is(hashKeyOf({ from: "field", name: "count" }, 1, json, metadata), "3");
  t.is(hashKeyOf({ from: "field", name: "nested" }, 1, json, metadata), '{"a":1}');
  t.is(hashKeyOf({ from: "field", name: "none" }, 1, json, metadata), undefined);
  t.is(hashKeyOf({ from: "field", name: "toString" }, 1, json, metadata), undefined, "own keys only");
  t.is(hashKeyOf({ from: "field", name: "1" }, 1, json, metadata), undefined, "a number names no json key");
  t.is(hashKeyOf({ from: "field", name: "name" }, 2, encodeMsgpack({ name: "bison" }), metadata), "bison");
  t.is(hashKeyOf({ from: "field", name: "name" }, 1, new TextEncoder().encode("{not json"), metadata), undefined, "malformed: no key");
  t.is(hashKeyOf({ from: "field", name: "1" }, 0, Uint8Array.of(0x0a, 0x05, 0x61), metadata), undefined, "truncated protobuf: no key");
});

test("hash keys from nested fields: a number path into embedded messages, a key path into json objects", (t) => {
  // field 3 = embedded message { field 1 = "alice", field 2 = 7 }; field 1 = "outer".
  const inner = Uint8Array.of(0x0a, 5, ...new TextEncoder().encode("alice"), 0x10, 7);
  const body = Uint8Array.of(0x0a, 5, ...new TextEncoder().encode("outer"), 0x1a, inner.length, ...inner);
  const none = new Map<string, string>();
  t.is(hashKeyOf({ from: "field", name: "3.1" }, 0, body, none), "alice");
  t.is(hashKeyOf({ from: "field", name: "3.2" }, 0, body, none), "7");
  t.is(hashKeyOf({ from: "field", name: "1" }, 0, body, none), "outer");
  t.is(hashKeyOf({ from: "field", name: "4.1" }, 0, body, none), undefined, "no field 4");
  const json = new TextEncoder().encode(JSON.stringify({ user: { id: "u-1", tags: ["a"] }, flat: "x" }));
  t.is(hashKeyOf({ from: "field", name: "user.id" }, 1, json, none), "u-1");
  t.is(hashKeyOf({ from: "field", name: "user.tags" }, 1, json, none), '["a"]');
  t.is(hashKeyOf({ from: "field", name: "flat.id" }, 1, json, none), undefined, "not an object");
  t.is(hashKeyOf({ from: "field", name: "user.id" }, 0, body, none), undefined, "names are not protobuf paths");
});

test("hash keys from protobuf varint, fixed and non-UTF-8 bytes fields; the last occurrence wins", (t) => {
  // field 1 varint 300; field 2 fixed32 7; field 3 fixed64 9; field 4 bytes ff fe; field 1 again varint 5.
  const body = Uint8Array.of(0x08, 0xac, 0x02, 0x15, 7, 0, 0, 0, 0x19, 9, 0, 0, 0, 0, 0, 0, 0, 0x22, 2, 0xff, 0xfe, 0x08, 0x05);
  const none = new Map<string, string>();
  t.is(hashKeyOf({ from: "field", name: "2" }, 0, body, none), "7");
  t.is(hashKeyOf({ from: "field", name: "3" }, 0, body, none), "9");
  t.is(hashKeyOf({ from: "field", name: "4" }, 0, body, none), "0xfffe");
  t.is(hashKeyOf({ from: "field", name: "1" }, 0, body, none), "5");
  t.is(hashKeyOf({ from: "field", name: "1" }, 0, body.subarray(0, 3), none), "300");
});
