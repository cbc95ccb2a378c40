// At most once on datagrams, after the reply cache forgot a request: a copy delayed in the
// network past the client's acknowledgement is recognised as stale by the acknowledged floor and
// must not run again (a lossy proxy found 9 double runs in 3000 calls before the floor existed).
import test from "ava";
import { DatagramStats } from "../../runtime/transport/datagram-stats.js";
import { ReplyCache } from "../../runtime/transport/datagram-reply-cache.js";

test("an acknowledged request is forgotten, and a late copy of it is stale; newer ones are not", (t) => {
  const cache = new ReplyCache(new DatagramStats());
  t.false(cache.isStale(1), "nothing is stale before the first acknowledgement");
  for (const seq of [1, 2, 3]) {
    cache.begin(seq);
    cache.answer(seq, Uint8Array.of(seq), 0);
  }
  cache.acknowledge(3);
  t.is(cache.get(1), undefined);
  t.is(cache.get(2), undefined);
  t.truthy(cache.get(3), "3 is still awaited by the client: kept");
  t.true(cache.isStale(1));
  t.true(cache.isStale(2));
  t.false(cache.isStale(3));
  t.false(cache.isStale(4));
  // An older acknowledgement (reordered) never moves the floor back.
  cache.acknowledge(2);
  t.true(cache.isStale(2));
});

test("the floor follows seq numbers across the 32-bit wrap", (t) => {
  const cache = new ReplyCache(new DatagramStats());
  const last = 0xffffffff;
  cache.begin(last);
  cache.answer(last, Uint8Array.of(1), 0);
  cache.acknowledge(1);
  t.true(cache.isStale(last));
  t.true(cache.isStale(0));
  t.false(cache.isStale(1));
  t.false(cache.isStale(2));
});
