// The datagram layer's parts on their own: the replay window, the server's reply cache (what a
// client acknowledgement, the time window and the bound forget), the client's acknowledgement,
// the datagram decoder, and the udp:// and netlink:// address forms.
import test from "ava";
import { DatagramStats } from "../../runtime/transport/datagram-stats.js";
import { decodeDatagramHeader, encodeDatagram, TRAILER_BYTES } from "../../runtime/transport/datagram-frame.js";
import { ReplayWindow, REPLAY_WINDOW } from "../../runtime/transport/datagram-replay-window.js";
import { ReplyCache, ReplyState } from "../../runtime/transport/datagram-reply-cache.js";
import { NO_ACK, RequestTable } from "../../runtime/transport/datagram-retransmit.js";
import { DEDUP_WINDOW_MS, MAX_CACHED_PER_PEER } from "../../runtime/transport/datagram-timing.js";
import { netlinkTransport } from "../../runtime/transport/netlink.js";
import { udpTransport } from "../../runtime/transport/udp.js";
import { FrameFlags, FrameKind, type FrameHeader } from "../../runtime/wire/header.js";

test("the replay window accepts each counter once, in any order within the window, and refuses older ones", (t) => {
  const window = new ReplayWindow();
  t.true(window.accept(1));
  t.false(window.accept(1));
  t.true(window.accept(5));
  t.true(window.accept(3), "late but within the window");
  t.false(window.accept(3));
  t.false(window.accept(0), "counters start at 1");
  t.true(window.accept(5 + REPLAY_WINDOW - 1));
  t.false(window.accept(5), "seen");
  t.true(window.accept(6 + 0), "not seen, still within the window");
  t.true(window.accept(10 * REPLAY_WINDOW));
  t.false(window.accept(10 * REPLAY_WINDOW - REPLAY_WINDOW), "too old");
  t.true(window.accept(10 * REPLAY_WINDOW - REPLAY_WINDOW + 1), "the oldest still inside");
  t.false(window.accept(2 ** 53), "beyond safe integers");
});

test("the reply cache: copies find their entry; acknowledged and expired answers are forgotten, running ones never", (t) => {
  const stats = new DatagramStats();
  const cache = new ReplyCache(stats);
  for (let seq = 1; seq <= 6; seq++) cache.begin(seq);
  t.is(cache.running, 6);
  const reply = new Uint8Array([1, 2, 3]);
  t.true(cache.answer(1, reply, 1000));
  t.false(cache.answer(1, reply, 1000), "answered once");
  cache.answer(2, reply, 1000);
  cache.cancel(3, 1000);
  cache.answer(5, reply, 1000);
  t.is(cache.get(1)!.state, ReplyState.ANSWERED);
  t.is(cache.get(1)!.datagram, reply);
  t.is(cache.get(3)!.state, ReplyState.CANCELLED);
  t.is(cache.running, 2);

  // The client waits for nothing before seq 5: 1, 2 and 3 go; 4 runs and stays; 5 is not acknowledged.
  cache.acknowledge(5);
  t.deepEqual([1, 2, 3, 4, 5, 6].map((seq) => cache.get(seq)?.state), [undefined, undefined, undefined, ReplyState.RUNNING, ReplyState.ANSWERED, ReplyState.RUNNING]);
  cache.answer(4, reply, 2000);
  cache.sweep(1000 + DEDUP_WINDOW_MS + 1);
  t.is(cache.get(4)?.state, ReplyState.ANSWERED, "answered at 2000: still inside the window");
  cache.sweep(2000 + DEDUP_WINDOW_MS + 1);
  t.deepEqual([4, 5, 6].map((seq) => cache.get(seq)?.state), [undefined, undefined, ReplyState.RUNNING]);
  t.is(cache.size, 1);
  t.is(stats.cacheEvicted, 0);

  // Serial arithmetic: an acknowledgement just past 2^32 covers seqs just below it.
  const wrapped = new ReplyCache(stats);
  wrapped.begin(0xfffffffe);
  wrapped.answer(0xfffffffe, reply, 0);
  wrapped.acknowledge(3);
  t.is(wrapped.size, 0);
});

test("the reply cache is bounded: beyond its bound the oldest answered entries go, counted", (t) => {
  const stats = new DatagramStats();
  const cache = new ReplyCache(stats);
  const reply = new Uint8Array(1);
  cache.begin(1); // stays running
  for (let seq = 2; seq <= MAX_CACHED_PER_PEER + 10; seq++) {
    cache.begin(seq);
    cache.answer(seq, reply, 0);
  }
  t.is(cache.size, MAX_CACHED_PER_PEER);
  t.is(stats.cacheEvicted, 10, "MAX + 10 entries made, MAX kept");
  t.is(cache.get(1)?.state, ReplyState.RUNNING);
  t.is(cache.get(11), undefined);
  t.is(cache.get(12)?.state, ReplyState.ANSWERED);
});

test("the client's acknowledgement names its oldest outstanding request", (t) => {
  const table = new RequestTable({ retransmit: () => undefined });
  t.teardown(() => table.clear());
  const now = Date.now();
  table.add(10, new Uint8Array(1), now, 0);
  table.add(11, new Uint8Array(1), now, 0);
  table.add(12, new Uint8Array(1), now, 0);
  t.false(table.add(11, new Uint8Array(1), now, 0), "a seq outstanding twice is refused");
  t.is(table.ackDelta(12), 2);
  table.take(10);
  t.is(table.ackDelta(12), 1);
  t.deepEqual(table.seqs(), [11, 12]);
  table.add(11 + NO_ACK + 5, new Uint8Array(1), now, 0);
  t.is(table.ackDelta(11 + NO_ACK + 5), NO_ACK, "too far back to say");
  table.take(11);
  table.take(12);
  t.is(table.ackDelta(11 + NO_ACK + 5), 0);
});

test("retransmission schedule: 20 ms, then doubling intervals; no copy at or after the deadline, none after take()", async (t) => {
  const sent = new Map<number, number[]>();
  const table: RequestTable = new RequestTable({
    retransmit: (request) => {
      const times = sent.get(request.seq) ?? [];
      times.push(Date.now() - request.firstSentAt);
      sent.set(request.seq, times);
      // The reply to 3 arrives right after its second copy went.
      if (request.seq === 3 && times.length === 2) table.take(3);
    },
  });
  t.teardown(() => table.clear());
  const start = Date.now();
  table.add(1, new Uint8Array(1), start, 400);
  table.add(2, new Uint8Array(1), start, 100);
  table.add(3, new Uint8Array(1), start, 5000);
  await new Promise((resolve) => setTimeout(resolve, 700));
  // Nominal copies at 20, 60, 140, 300 ms (the next, at 620, would pass the 400 ms deadline).
  // Each is scheduled from when the one before actually went, so a late timer delays the rest,
  // and a copy whose time would reach the deadline is not sent at all; never is one early (the
  // clock reads whole ms).
  const one = sent.get(1) ?? [];
  t.true(one.length >= 2 && one.length <= 4, `copies at ${one.join(", ")} ms`);
  t.true(one[0]! >= 19, `first copy at ${one[0]} ms`);
  for (let i = 1; i < one.length; i++) t.true(one[i]! - one[i - 1]! >= 20 * 2 ** i - 1, `copy ${i + 1} at ${one[i]} ms`);
  t.true(one.every((at) => at < 400), "none at or after the deadline");
  const two = sent.get(2) ?? [];
  t.true(two.length >= 1 && two.length <= 2 && two.every((at) => at < 100), `deadline 100 ms: copies at ${two.join(", ")} ms`);
  t.is(sent.get(3)!.length, 2, "taken after its second copy: no third");
});

test("a datagram is exactly one frame: size, magic, version, kind and trailer are checked", (t) => {
  const header: FrameHeader = { kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0, length: 0 };
  const out = { kind: FrameKind.REQUEST, codec: 2, flags: 0, status: 0, seq: 9, method: 77, timeoutMs: 500 };
  const plain = encodeDatagram(out, new Uint8Array([1, 2, 3]), new Uint8Array([0, 0]), false);
  t.is(decodeDatagramHeader(plain, header), undefined);
  t.like(header, { kind: FrameKind.REQUEST, codec: 2, flags: FrameFlags.METADATA, seq: 9, method: 77, timeoutMs: 500, length: 5 });
  const sealed = encodeDatagram(out, new Uint8Array([1, 2, 3]), undefined, true);
  t.is(sealed.length, 24 + 3 + TRAILER_BYTES);
  t.is(decodeDatagramHeader(sealed, header), undefined);
  t.is(header.flags & FrameFlags.TAGGED, FrameFlags.TAGGED);
  t.is(decodeDatagramHeader(plain.subarray(0, 20), header), "short");
  t.is(decodeDatagramHeader(plain.subarray(0, plain.length - 1), header), "length");
  t.is(decodeDatagramHeader(sealed.subarray(0, sealed.length - 1), header), "length");
  const bad = (at: number, value: number) => {
    const copy = new Uint8Array(plain);
    copy[at] = value;
    return decodeDatagramHeader(copy, header);
  };
  t.is(bad(0, 0x4e), "magic");
  t.is(bad(2, 9), "version");
  t.is(bad(3, 9), "kind");
  t.is(bad(3, 0), "kind");
  t.is(bad(3, 8), undefined, "kind 8: the datagram layer's control frames");
});

test("udp:// and netlink:// addresses: accepted forms, normalised, and clear errors", (t) => {
  t.like(udpTransport.parse("udp://127.0.0.1:7000"), { uri: "udp://127.0.0.1:7000", host: "127.0.0.1", port: 7000 });
  t.like(udpTransport.parse("udp://[::1]:0/"), { uri: "udp://[::1]:0", host: "::1", port: 0 });
  t.like(udpTransport.parse("udp://localhost:53?maxDatagram=1472"), {
    uri: "udp://localhost:53?maxDatagram=1472",
    options: { maxDatagramBytes: 1472, faults: undefined },
  });
  t.like(udpTransport.parse("udp://h:1?dropEvery=3&duplicate=1"), { options: { maxDatagramBytes: 65_507, faults: { dropEvery: 3, duplicate: true } } });
  t.like(netlinkTransport.parse("netlink://4242"), { uri: "netlink://4242", port: 4242, options: { maxDatagramBytes: 65_536 } });
  t.like(netlinkTransport.parse("netlink://4294967295?maxDatagram=262144"), { port: 4294967295, options: { maxDatagramBytes: 262_144 } });
  for (const [transport, uri, reason] of [
    [udpTransport, "udp://127.0.0.1", "expected a host and a port"],
    [udpTransport, "udp://127.0.0.1:65536", "port 65536 is above 65535"],
    [udpTransport, "udp://:7000", "expected a host and a port"],
    [netlinkTransport, "netlink://", "expected a numeric port id"],
    [netlinkTransport, "netlink://-1", "expected a numeric port id"],
    [netlinkTransport, "netlink://4294967296", "port id 4294967296 is above 4294967295"],
    [netlinkTransport, "netlink://1?maxDatagram=2000000", `parameter maxDatagram must be an integer from 1072 to 1048576, got "2000000"`],
  ] as const) {
    const error = t.throws(() => transport.parse(uri));
    t.is(error!.message, `[INVALID_ARGUMENT] address "${uri}" is malformed (${reason}); expected ${transport.forms.join(" or ")}`);
  }
});
