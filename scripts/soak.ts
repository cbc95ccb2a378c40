// The long soak: `npm run soak -- --minutes N` (tsx, with the msf-source condition). Prints a
// sample every few seconds and a summary; exits 1 when calls or acknowledged events were lost
// or msfd's memory or open fds grew beyond the rule printed with the summary (test/soak/soak-run.ts).
import type { ExecutionContext } from "ava";
import { parseArgs } from "node:util";
import { formatSummary, runSoak } from "../test/soak/soak-run.js";

const { values } = parseArgs({ options: { minutes: { type: "string", default: "10" } } });
const minutes = Number(values.minutes);
if (!(minutes > 0 && minutes <= 24 * 60)) {
  console.error(`soak: --minutes must be a number from 0 (excluded) to 1440, got ${JSON.stringify(values.minutes)}`);
  process.exit(2);
}

// runSoak registers its cleanups (msfd stopped, channels closed, temp dir removed) as a test would.
const teardowns: Array<() => unknown> = [];
const context = { teardown: (fn: () => unknown) => void teardowns.push(fn) } as unknown as ExecutionContext;
let exitCode = 1;
try {
  const summary = await runSoak(context, {
    durationMs: minutes * 60_000,
    warmupMs: 30_000,
    sampleEveryMs: 5000,
    reloadEveryMs: 20_000,
    killEveryMs: 60_000,
    eventsPerSecond: 200,
    log: (line) => console.log(line),
  });
  for (const line of formatSummary(summary)) console.log(line);
  exitCode = summary.violations.length === 0 ? 0 : 1;
} catch (error) {
  console.error(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  for (const teardown of teardowns.reverse()) await teardown();
}
process.exit(exitCode);
