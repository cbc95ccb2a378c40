// The benchmark's latency histogram must give back percentiles within 0.1% of the true samples.
import test from "ava";
import { LatencyHistogram } from "../../bench/latency-histogram.js";

test("nearest-rank percentiles over 1..100 µs are exact", (t) => {
  const histogram = new LatencyHistogram();
  for (let us = 100; us >= 1; us--) histogram.record(us);
  t.is(histogram.count, 100);
  t.is(histogram.percentile(0.5), 50);
  t.is(histogram.percentile(0.99), 99);
  t.is(histogram.percentile(1), 100);
  t.is(histogram.percentile(0.001), 1);
});

test("any single value from 0.1 µs to 200 s reads back within 0.1% (or 0.05 µs)", (t) => {
  let worst = 0;
  for (let us = 0.1; us < 200e6; us *= 1.0137) {
    const histogram = new LatencyHistogram();
    histogram.record(us);
    const error = Math.abs(histogram.percentile(0.5) - us);
    const allowed = Math.max(0.05, us / 1000);
    if (error > allowed) t.fail(`${us} µs read back as ${histogram.percentile(0.5)} µs`);
    if (us >= 1000) worst = Math.max(worst, error / us);
  }
  t.true(worst > 0 && worst <= 0.001, `worst relative error above 1 ms: ${worst}`);
});

test("p99 of a long tail, nothing recorded, and out-of-range values", (t) => {
  const histogram = new LatencyHistogram();
  t.true(Number.isNaN(histogram.percentile(0.5)));
  for (let i = 0; i < 990; i++) histogram.record(50);
  for (let i = 0; i < 10; i++) histogram.record(7_000 + i);
  t.is(histogram.percentile(0.5), 50);
  t.is(histogram.percentile(0.99), 50);
  const tail = histogram.percentile(0.995);
  t.true(Math.abs(tail - 7_004) <= 7.004 + 0.05, `p99.5 ${tail}`);
  histogram.record(-3);
  histogram.record(1e12);
  t.is(histogram.percentile(0.0001), 0);
  t.true(histogram.percentile(1) > 200e6);
});
