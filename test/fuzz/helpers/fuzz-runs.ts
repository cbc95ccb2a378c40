// How many generated cases each property runs. `npm test` runs a quick sample (seconds);
// `npm run test:fuzz` sets MSF_FUZZ_RUNS=20000: every pure property runs that many (the frame
// parser's nine properties together well over 100,000 cases), the properties whose cases are
// expensive (real sockets, a parse per byte boundary) a stated fraction. Each test logs its count.
// A failing property prints fast-check's seed and path: rerun one case with MSF_FUZZ_SEED
// (and MSF_FUZZ_PATH) set to those values.
import type { Parameters as FcParameters } from "fast-check";

/** Cases per pure property when MSF_FUZZ_RUNS is not set. */
const QUICK_RUNS = 1000;

/** The base case count: MSF_FUZZ_RUNS if set (a positive integer), else QUICK_RUNS. */
export function baseRuns(): number {
  const raw = process.env.MSF_FUZZ_RUNS;
  if (raw === undefined || raw === "") return QUICK_RUNS;
  const runs = Number(raw);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`MSF_FUZZ_RUNS must be a positive integer, got ${JSON.stringify(raw)}`);
  return runs;
}

/**
 * Cases for one property: the base count divided by `divisor` (for properties whose single case
 * is expensive: many parses, or real sockets), at least `min` and at most `max`.
 */
export function fuzzRuns(divisor = 1, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  return Math.max(min, Math.min(max, Math.ceil(baseRuns() / divisor)));
}

/** fast-check parameters for `numRuns` cases, honouring a seed to replay from the environment. */
export function fcParameters<T>(numRuns: number): FcParameters<T> {
  const seed = process.env.MSF_FUZZ_SEED;
  const path = process.env.MSF_FUZZ_PATH;
  return {
    numRuns,
    // Show what the failing case threw, not only the case.
    includeErrorInReport: true,
    ...(seed !== undefined && seed !== "" && { seed: Number(seed) }),
    ...(path !== undefined && path !== "" && { path }),
  };
}
