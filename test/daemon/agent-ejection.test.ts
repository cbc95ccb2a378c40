import test from "ava";
import { Ejection, checkEjectionPolicy } from "../../runtime/daemon/agent/ejection.js";
import { endCall, beginCall } from "../../runtime/daemon/agent/pick.js";
import { Registry, type RoutedService } from "../../runtime/daemon/agent/registry.js";
import { FakeClock, instanceInfo, servedMethod, servedService } from "./agent-fixtures.js";

const policy = { failures: 3, baseMs: 1000, maxMs: 4000 };

function failTimes(ejection: Ejection, count: number, now: number): void {
  for (let i = 0; i < count; i++) ejection.failed(false, now);
}

test("N consecutive failures eject; a success in between resets the count", (t) => {
  const ejection = new Ejection(policy);
  failTimes(ejection, 2, 0);
  t.deepEqual(ejection.state, { t: "active", failures: 2 });
  ejection.succeeded(false, 0);
  failTimes(ejection, 2, 0);
  t.true(ejection.admits(0), "2 failures after a success: still in");
  ejection.failed(false, 10);
  t.deepEqual(ejection.state, { t: "ejected", since: 10, until: 1010 });
  t.false(ejection.admits(1009));
  t.true(ejection.admits(1010));
});

test("after the interval one probe goes; only its outcome counts; success restores", (t) => {
  const ejection = new Ejection(policy);
  failTimes(ejection, 3, 0);
  t.false(ejection.admit(500), "not a probe while ejected");
  t.true(ejection.admit(1000), "the first call after the interval is the probe");
  t.false(ejection.admits(1000), "no second call while the probe is out");
  ejection.succeeded(false, 1001);
  t.is(ejection.state.t, "probing", "a late success of a call sent before the ejection does not restore");
  ejection.failed(false, 1001);
  t.is(ejection.state.t, "probing", "nor does a late failure eject again");
  ejection.succeeded(true, 1002);
  t.deepEqual(ejection.state, { t: "active", failures: 0 });
  t.is(ejection.ejections, 1);
});

test("a failed probe ejects again for twice as long, up to the cap; a long healthy spell starts again from the base", (t) => {
  const ejection = new Ejection(policy);
  let now = 0;
  failTimes(ejection, 3, now);
  const intervals: number[] = [];
  for (let i = 0; i < 4; i++) {
    const state = ejection.state;
    if (state.t !== "ejected") return t.fail(`expected ejected, got ${state.t}`);
    intervals.push(state.until - state.since);
    now = state.until;
    t.true(ejection.admit(now));
    ejection.failed(true, now);
  }
  t.deepEqual(intervals, [1000, 2000, 4000, 4000]);
  // Restored, then failing again soon: the interval stays long (a flapping backend).
  let state = ejection.state;
  if (state.t !== "ejected") return t.fail("expected ejected");
  now = state.until;
  ejection.admit(now);
  ejection.succeeded(true, now);
  failTimes(ejection, 3, now + 100);
  state = ejection.state;
  t.is(state.t === "ejected" ? state.until - state.since : -1, 4000);
  // Restored and healthy for longer than maxMs: back to the base interval.
  now = state.t === "ejected" ? state.until : 0;
  ejection.admit(now);
  ejection.succeeded(true, now);
  failTimes(ejection, 3, now + 4001);
  state = ejection.state;
  t.is(state.t === "ejected" ? state.until - state.since : -1, 1000);
});

test("a probe that never reports does not keep the backend out for ever: another goes after maxMs", (t) => {
  const ejection = new Ejection(policy);
  failTimes(ejection, 3, 0);
  t.true(ejection.admit(1000));
  t.false(ejection.admits(4999));
  t.true(ejection.admits(5000));
  t.true(ejection.admit(5000), "a new probe");
  ejection.succeeded(true, 5001);
  t.is(ejection.state.t, "active");
});

test("bad policies are refused with the field named", (t) => {
  t.throws(() => checkEjectionPolicy({ failures: 0, baseMs: 1, maxMs: 1 }), { message: /failures must be an integer >= 1, got 0/ });
  t.throws(() => checkEjectionPolicy({ failures: 1, baseMs: -5, maxMs: 1 }), { message: /baseMs must be a number of ms > 0, got -5/ });
  t.throws(() => checkEjectionPolicy({ failures: 1, baseMs: 10, maxMs: 5 }), { message: /maxMs must be a number of ms >= baseMs \(10\), got 5/ });
  t.throws(() => new Registry({ ejection: { failures: 1.5, baseMs: 1, maxMs: 1 } }), { message: /failures must be an integer/ });
});

/** A registry with service "svc" of `count` backends, round robin, on a fake clock. */
function service(count: number, clock: FakeClock): RoutedService {
  const registry = new Registry({ ejection: policy, clock: clock.read });
  const served = [servedService("pkg.svc", [servedMethod("pkg.svc.get")])];
  for (let i = 0; i < count; i++) registry.up(instanceInfo("svc", i, `unix:/tmp/svc.${i}.sock`), served);
  return registry.service("svc")!;
}

/** Sends one call through the service's pick and reports `outcome` for it; returns the backend's id. */
function call(entry: RoutedService, clock: FakeClock, outcome: "ok" | "unreachable"): string {
  const picked = entry.pick(undefined, undefined, clock.now)!;
  beginCall(picked);
  endCall(picked, entry.balancer, outcome, clock.now);
  return picked.backend.id;
}

test("through the registry: an ejected backend gets no calls until its probe, then is back in rotation", (t) => {
  const clock = new FakeClock();
  const entry = service(2, clock);
  const [a, b] = entry.backends as [(typeof entry.backends)[0], (typeof entry.backends)[0]];
  // a fails 3 times in a row (every other call goes to a under round robin).
  for (let i = 0; i < 6; i++) call(entry, clock, entry.backends[i % 2] === a ? "unreachable" : "ok");
  t.is(a.ejection.state.t, "ejected");
  t.deepEqual(a.status(clock.now), {
    id: "svc#0.1",
    endpoint: "unix:/tmp/svc.0.sock",
    state: "ejected",
    consecutiveFailures: 0,
    ejectedUntil: clock.now + 1000,
    ejections: 1,
    inFlight: 0,
    calls: 3,
    errors: 3,
    weight: 100,
    upMs: 0,
  });
  for (let i = 0; i < 20; i++) {
    clock.advance(40);
    t.is(call(entry, clock, "ok"), b.id, `call ${i} at +${40 * (i + 1)} ms avoids the ejected backend`);
  }
  clock.advance(200); // past the 1000 ms interval
  // The probe is out (not reported yet): the other calls avoid a meanwhile.
  let probe = entry.pick(undefined, undefined, clock.now)!;
  if (probe.backend !== a) probe = entry.pick(undefined, undefined, clock.now)!;
  t.is(probe.backend, a);
  t.true(probe.probe);
  beginCall(probe);
  for (let i = 0; i < 5; i++) t.is(call(entry, clock, "ok"), b.id);
  endCall(probe, entry.balancer, "ok", clock.now);
  t.is(a.ejection.state.t, "active");
  const ids = Array.from({ length: 10 }, () => call(entry, clock, "ok"));
  t.is(ids.filter((id) => id === a.id).length, 5, "round robin again");
});

test("when every backend is ejected, calls go to the one ejected longest ago, whose success restores it", (t) => {
  const clock = new FakeClock();
  const entry = service(3, clock);
  const [a, b, c] = entry.backends;
  // Eject b first, then c, then a (10 ms apart).
  for (const backend of [b!, c!, a!]) {
    for (let i = 0; i < 3; i++) {
      const picked = { backend, probe: false };
      beginCall(picked);
      endCall(picked, entry.balancer, "unreachable", clock.now);
    }
    clock.advance(10);
  }
  t.true([a, b, c].every((backend) => backend!.ejection.state.t === "ejected"));
  const picked = entry.pick(undefined, undefined, clock.now)!;
  t.is(picked.backend, b, "b was ejected first");
  t.true(picked.probe, "it goes as the probe");
  // The probe is out; the next call still goes to b (least recently ejected), not as a probe.
  const second = entry.pick(undefined, undefined, clock.now)!;
  t.is(second.backend, b);
  t.false(second.probe);
  // A call that already tried b goes to the next one ejected longest ago.
  t.is(entry.pick(undefined, new Set([b!]), clock.now)!.backend, c);
  t.is(entry.pick(undefined, new Set([a!, b!, c!]), clock.now), undefined, "every backend tried: nowhere left");
  beginCall(picked);
  endCall(picked, entry.balancer, "ok", clock.now);
  t.is(b!.ejection.state.t, "active");
  for (let i = 0; i < 5; i++) t.is(call(entry, clock, "ok"), b!.id, "b alone takes calls while a and c are out");
});

test("a probe that is overloaded (timed out) does not restore the backend", (t) => {
  const clock = new FakeClock();
  const entry = service(1, clock);
  const [a] = entry.backends;
  for (let i = 0; i < 3; i++) call(entry, clock, "unreachable");
  clock.advance(1000);
  const probe = entry.pick(undefined, undefined, clock.now)!;
  t.true(probe.probe);
  beginCall(probe);
  endCall(probe, entry.balancer, "overloaded", clock.now);
  const state = a!.ejection.state;
  t.is(state.t, "ejected");
  t.is(state.t === "ejected" ? state.until - state.since : 0, 2000);
});
