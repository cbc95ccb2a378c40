// `npm run demo` is the first thing a newcomer runs: it must work and show each answer.
import test from "ava";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { resolve } from "node:path";

const repoRoot = resolve(import.meta.dirname, "../..");

test("npm run demo answers over unix and tcp, async and blocking, then under msfd, and exits 0", async (t) => {
  t.timeout(240_000);
  const { stdout } = await promisify(execFile)("npm", ["run", "--silent", "demo"], { cwd: repoRoot, timeout: 230_000 });
  const success = '{"errcode":0,"errmsg":"success","flightsInfo":"{Spring Airlines;9C8835;RMB1230}"}';
  for (const scheme of ["unix:", "tcp://127.0.0.1:"]) {
    const section = stdout.split("== ").find((part) => part.startsWith(scheme));
    t.truthy(section, `a section for ${scheme} in:\n${stdout}`);
    t.regex(section!, new RegExp(`async +queryFlight\\(bison\\) +-> ${escape(success)}`));
    t.regex(section!, new RegExp(`blocking queryFlightSync\\(bison\\) -> ${escape(success)}`));
    t.regex(section!, /queryFlight\(mallory\) -> \{"errcode":-1,"errmsg":"invalid user","flightsInfo":""\}/);
    t.regex(section!, /async loop: 20000 calls, 64 in flight, \d+ calls\/s/);
  }
  const daemon = stdout.split("== ").find((part) => part.startsWith("msfd"));
  t.truthy(daemon, `a section for msfd in:\n${stdout}`);
  t.regex(daemon!, /^msfd \(pid \d+\): msfd ready unix:\S+ tcp:\/\/127\.0\.0\.1:\d+/);
  t.regex(daemon!, /\{"errmsg":"success","flightsInfo":"\{Spring Airlines;9C8835;RMB1230\}"\}/);
  t.regex(daemon!, new RegExp(`by name, direct +-> ${escape(success)}`));
  t.regex(daemon!, new RegExp(`by name, brokered -> ${escape(success)}`));
  t.regex(daemon!, /flight_service +running +2\/2 +process +round_robin/);
  // queryFlight is idempotent in msf.json: calls caught by the kill are retried on the other instance.
  t.regex(daemon!, /kill -9 of instance pid \d+: 200 calls in the next \d+ ms, 0 failed/);
  t.regex(daemon!, /unchanged: flight_service/);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
