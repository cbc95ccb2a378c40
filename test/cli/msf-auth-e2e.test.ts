// The msf CLI against a real msfd whose control socket and broker use a configured secrets file
// (auth in msf.json), and against the stale socket a killed msfd leaves behind.
import test from "ava";
import { FLIGHT_REPLY, FLIGHT_REQUEST, makeTempDir, removeDir, runMsf, startMsfd, writeFlightConfig, writeSecrets } from "./cli-fixtures.js";

test("auth from the config on control and broker; a killed msfd is unreachable (exit 3)", async (t) => {
  const dir = makeTempDir();
  t.teardown(() => removeDir(dir));
  writeSecrets(dir, "secrets.json", { admin: "admin-secret-1234", reader: "reader-secret-5678" });
  const config = writeFlightConfig(dir, { auth: { secrets_file: "./secrets.json", user: "admin" } });
  const msfd = await startMsfd(config);
  t.teardown(() => msfd.stop());

  const call = await runMsf(["-c", config, "call", "flight_service.queryFlight", FLIGHT_REQUEST, "--json"]);
  t.is(call.code, 0, call.stderr);
  t.deepEqual(JSON.parse(call.stdout), FLIGHT_REPLY);

  // A name the secrets file does not define: msf refuses before connecting (exit 4).
  const stranger = await runMsf(["-c", config, "status", "--user", "mallory"]);
  t.is(stranger.code, 4);
  t.regex(stranger.stderr, /^msf: secrets file .*secrets\.json has no entry for user "mallory"\n$/);

  // The right name with another secret: msfd refuses the handshake (exit 4), nothing leaks.
  const wrong = writeSecrets(dir, "wrong.json", { admin: "guessed-secret" });
  const refused = await runMsf(["--control", `unix:${dir}/run/control.sock`, "--secrets-file", wrong, "status"]);
  t.is(refused.code, 4);
  t.regex(refused.stderr, /^msf: \[UNAUTHENTICATED\] /);
  for (const secret of ["guessed-secret", "admin-secret-1234"]) t.false(refused.stderr.includes(secret));

  await msfd.kill();
  const gone = await runMsf(["-c", config, "status"]);
  t.is(gone.code, 3, gone.stderr);
  t.regex(gone.stderr, /^msf: \[UNAVAILABLE\] /);
});
