// Faults under load through a real msfd: three process instances of the flight service behind the
// broker while instances are killed (SIGKILL), paused (SIGSTOP, then SIGCONT) and restarted by the
// supervisor. Every call succeeds or fails with a clear code, none runs past its deadline, and
// queryFlight (idempotent_methods) is retried onto healthy instances: no call is lost.
// MSF_FAULT_CYCLES (default 1) repeats the fault sequence: `npm run test:faults` runs 8.
import test from "ava";
import { FlightServiceClient } from "../../examples/flight/gen/flight.client.js";
import { flightPlugin, startMsfd, type Msfd } from "../daemon/msfd-harness.js";
import { sleep, startLoad, until } from "./fault-load.js";

const cycles = Number(process.env.MSF_FAULT_CYCLES ?? "1");
const bison = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };
const CALL_TIMEOUT_MS = 1500;
/** A call may end this much after its timeout (timers, scheduling on a loaded 2-core machine). */
const SLACK_MS = 400;

const faultConfig = {
  proc_name: "faults",
  proc_svcs: [
    {
      svc_name: "flight_service",
      svc_libs: flightPlugin,
      isolation: "process",
      instances: 3,
      idempotent_methods: ["queryFlight"],
      restart: { max_restarts: 1000, window_ms: 60_000, backoff_initial_ms: 50, backoff_max_ms: 500, stop_timeout_ms: 2000 },
    },
  ],
};

/** The pids of the service's ready instances, once there are `count` of them. */
async function readyPids(msfd: Msfd, count: number, timeoutMs = 30_000): Promise<number[]> {
  const control = msfd.controlClient();
  return until(
    async () => {
      const service = (await control.status({})).services[0];
      const pids = (service?.instances ?? []).filter((instance) => instance.state === "ready").map((instance) => instance.pid);
      return pids.length === count ? pids : undefined;
    },
    timeoutMs,
    `${count} ready instances`,
  );
}

test("instances killed, paused and restarted under load: no call hangs past its deadline, none is lost", async (t) => {
  t.timeout(60_000 + cycles * 20_000);
  const msfd = await startMsfd(t, faultConfig, { args: ["--no-watch"] });
  const stopped = new Set<number>();
  t.teardown(() => {
    for (const pid of stopped) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // Already gone.
      }
    }
  });
  let pids = await readyPids(msfd, 3);
  const client = new FlightServiceClient(msfd.broker());
  const load = startLoad({
    concurrency: 8,
    timeoutMs: CALL_TIMEOUT_MS,
    slackMs: SLACK_MS,
    maxCalls: 2_000_000,
    maxMs: 30_000 + cycles * 20_000,
    call: async (_index, timeoutMs) => {
      const reply = await client.queryFlight(bison, { timeoutMs });
      if (reply.errmsg !== "success") throw new Error(`wrong reply: ${JSON.stringify(reply)}`);
    },
  });
  let faults = 0;
  for (let cycle = 0; cycle < cycles; cycle++) {
    await sleep(500);
    process.kill(pids[cycle % 3]!, "SIGKILL");
    faults++;
    await sleep(300);
    pids = await readyPids(msfd, 3);
    const paused = pids[(cycle + 1) % 3]!;
    process.kill(paused, "SIGSTOP");
    stopped.add(paused);
    faults++;
    // Longer than a call's timeout: calls sent to it cannot be answered in time.
    await sleep(CALL_TIMEOUT_MS + 1000);
    process.kill(paused, "SIGCONT");
    stopped.delete(paused);
    await sleep(500);
    pids = await readyPids(msfd, 3);
  }
  await sleep(500);
  const report = await load.stop();
  t.log(
    `${cycles} cycle(s), ${faults} faults: ${report.ok} calls ok, ${report.failed} failed ${JSON.stringify(report.failuresByCode)}, ` +
      `longest call ${report.longestCallMs} ms (timeout ${CALL_TIMEOUT_MS}), longest gap without a success ${report.longestGapMs} ms`,
  );
  for (const sample of report.samples.slice(0, 5)) t.log(`  ${sample}`);
  t.deepEqual(report.unclear, [], "every failure is an RpcError with a code and a message");
  t.deepEqual(report.overran, [], "no call ran past its deadline");
  t.true(report.ok > 0);
  t.is(report.failed, 0, "idempotent calls moved on to healthy instances");
});
