// The soak's fast version (about 20 s of load): mixed load, reloads, an instance SIGKILLed; no
// call or acknowledged event lost, and msfd's memory and open fds within the growth rule.
// The long run: `npm run soak -- --minutes 10` (scripts/soak.ts).
import test from "ava";
import { formatSummary, runSoak } from "./soak-run.js";

test("soak, fast: 20 s of calls, events, reloads and a kill -9; nothing lost, no growth beyond the rule", async (t) => {
  t.timeout(120_000);
  const summary = await runSoak(t, {
    durationMs: 20_000,
    warmupMs: 4000,
    sampleEveryMs: 1000,
    reloadEveryMs: 7000,
    killEveryMs: 10_000,
    eventsPerSecond: 100,
    log: () => undefined,
  });
  for (const line of formatSummary(summary)) t.log(line);
  t.deepEqual(summary.violations, []);
  t.true(summary.reloads >= 2 && summary.kills >= 1 && summary.calls.ok > 0 && summary.events.received > 0);
});
