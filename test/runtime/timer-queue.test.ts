import test from "ava";
import { TimerQueue, type Timed } from "msf/internal";

class Entry implements Timed {
  timerAt = 0;
  timerPrev: Timed | undefined = undefined;
  timerNext: Timed | undefined = undefined;
  timerList: Timed["timerList"] = undefined;
  constructor(
    readonly name: string,
    private readonly fired: string[],
  ) {}
  onDeadline(): void {
    this.fired.push(this.name);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("entries fire once, in deadline order, across durations; removed ones never fire", async (t) => {
  const queue = new TimerQueue();
  const fired: string[] = [];
  const now = Date.now();
  const entries = ["a60", "b20", "c40", "d20", "e40"].map((name) => new Entry(name, fired));
  for (const entry of entries) {
    const ms = Number(entry.name.slice(1));
    queue.add(entry, now + ms, ms);
  }
  queue.remove(entries[4]!); // e40
  queue.remove(entries[4]!); // twice is a no-op
  t.is(queue.pending, 4);
  await sleep(150);
  t.deepEqual(fired, ["b20", "d20", "c40", "a60"]);
  t.is(queue.pending, 0);
});

test("entries of several durations due at once (the event loop was held up) still fire in deadline order", async (t) => {
  const queue = new TimerQueue();
  const fired: string[] = [];
  const now = Date.now();
  for (const name of ["a30", "b10", "c20", "d10"]) {
    const ms = Number(name.slice(1));
    queue.add(new Entry(name, fired), now + ms, ms);
  }
  const until = Date.now() + 60;
  while (Date.now() < until) {
    // Busy: every deadline passes before the timer can fire.
  }
  await sleep(20);
  t.deepEqual(fired, ["b10", "d10", "c20", "a30"]);
});

test("a late-comer with an earlier deadline in the same list is put in order", async (t) => {
  const queue = new TimerQueue();
  const fired: string[] = [];
  const now = Date.now();
  queue.add(new Entry("late", fired), now + 60, 30);
  queue.add(new Entry("early", fired), now + 20, 30);
  queue.add(new Entry("middle", fired), now + 40, 30);
  await sleep(120);
  t.deepEqual(fired, ["early", "middle", "late"]);
});

test("an entry may be re-added from its own onDeadline", async (t) => {
  const queue = new TimerQueue();
  let count = 0;
  const entry: Timed = {
    timerAt: 0,
    timerPrev: undefined,
    timerNext: undefined,
    timerList: undefined,
    onDeadline() {
      count++;
      if (count < 3) queue.add(entry, Date.now() + 5, 5);
    },
  };
  queue.add(entry, Date.now() + 5, 5);
  await sleep(100);
  t.is(count, 3);
});
