// A new user's path, for real: pack msf, install the tarball into an empty project, generate
// code from flight.proto there with `npx msf-gen`, type-check it and the user's own server and
// client with `tsc --strict`, then run them as plain Node (no tsx, no source condition).
import test from "ava";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, copyFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { once } from "node:events";

const repoRoot = resolve(import.meta.dirname, "../..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

const serverSource = `
import { createServer } from "msf";
import { FlightServiceDefinition, type FlightServiceHandlers } from "./gen/flight.server.js";

const handlers: FlightServiceHandlers = {
  queryFlight(request) {
    return request.name === "bison" && request.password === "123456"
      ? { errcode: 0, errmsg: "success", flightsInfo: "{9C8835}" }
      : { errcode: -1, errmsg: "invalid user", flightsInfo: "" };
  },
};
const server = createServer({ listen: [process.argv[2]!] });
server.addService(FlightServiceDefinition, handlers);
await server.start();
console.log("ready");
process.once("SIGTERM", () => void server.close().then(() => process.exit(0)));
`;

const clientSource = `
import { createChannel, RpcError, Code } from "msf";
import { FlightServiceClient } from "./gen/flight.client.js";

const channel = createChannel(process.argv[2]!, { timeoutMs: 2000 });
const client = new FlightServiceClient(channel);
const request = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };
const asyncReply = await client.queryFlight(request);
const blockingReply = client.queryFlightSync({ ...request, password: "wrong" }, { timeoutMs: 2000 });
let unavailable = "";
try {
  await new FlightServiceClient(createChannel("unix:/nonexistent/msf.sock")).queryFlight(request);
} catch (error) {
  if (error instanceof RpcError && error.code === Code.UNAVAILABLE) unavailable = "UNAVAILABLE";
}
console.log(JSON.stringify({ asyncReply, blockingReply, unavailable }));
await channel.close();
`;

test("npm pack → install into an empty project → msf-gen → tsc --strict → server and client run", async (t) => {
  t.timeout(240_000);
  const work = mkdtempSync(join(tmpdir(), "msf-pack-"));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const project = join(work, "project");
  execFileSync(npm, ["pack", "--pack-destination", work], { cwd: repoRoot, stdio: "pipe" });
  const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
  t.truthy(tarball, "npm pack produced a tarball");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "flight-app", private: true, type: "module" }));
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, outDir: "out", skipLibCheck: false, types: ["node"] },
      include: ["*.ts", "gen/**/*.ts"],
    }),
  );
  execFileSync(
    npm,
    ["install", "--prefer-offline", "--no-audit", "--no-fund", join(work, tarball!), "typescript@5.9.3", "@types/node@20.19.43"],
    { cwd: project, stdio: "pipe" },
  );
  copyFileSync(join(repoRoot, "idl/flight.proto"), join(project, "flight.proto"));
  execFileSync("npx", ["msf-gen", "flight.proto", "-o", "gen"], { cwd: project, stdio: "pipe" });
  t.true(existsSync(join(project, "gen/flight.ts")));
  t.true(existsSync(join(project, "gen/flight.server.ts")));
  t.true(existsSync(join(project, "gen/flight.client.ts")));
  writeFileSync(join(project, "server.ts"), serverSource);
  writeFileSync(join(project, "client.ts"), clientSource);
  execFileSync("npx", ["tsc", "-p", "."], { cwd: project, stdio: "pipe" });

  const address = `unix:${join(work, "flight.sock")}`;
  const server = spawn(process.execPath, [join(project, "out/server.js"), address], { cwd: project, stdio: ["ignore", "pipe", "inherit"] });
  t.teardown(() => server.kill("SIGKILL"));
  const [firstChunk] = (await once(server.stdout!, "data")) as [Buffer];
  t.is(firstChunk.toString().trim(), "ready");

  const output = execFileSync(process.execPath, [join(project, "out/client.js"), address], { cwd: project, encoding: "utf8" });
  t.deepEqual(JSON.parse(output), {
    asyncReply: { errcode: 0, errmsg: "success", flightsInfo: "{9C8835}" },
    blockingReply: { errcode: -1, errmsg: "invalid user", flightsInfo: "" },
    unavailable: "UNAVAILABLE",
  });
});
