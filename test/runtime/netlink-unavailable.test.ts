// Without the netlink addon (a registry install that skipped install scripts, or a platform
// without netlink), netlink:// fails clearly — UNAVAILABLE naming the transport and the reason —
// and every other transport works. Simulated by pointing the loader at a missing or broken file.
import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, createChannel, createServer } from "msf";
import { setNetlinkAddonPath } from "../../runtime/transport/datagram-netlink-socket.js";
import { TestService, request, rpcError, startTestServer } from "../helpers/runtime-fixtures.js";

// The loader's state is per process: these tests run one at a time and restore it.
test.afterEach.always(() => setNetlinkAddonPath(undefined));

test.serial("a missing addon: listen and calls fail UNAVAILABLE with the reason; udp and unix still work", async (t) => {
  const missing = join(tmpdir(), `msf-no-such-dir-${process.pid}`, "netlink.node");
  setNetlinkAddonPath(missing);

  const server = createServer({ listen: ["netlink://0"] });
  server.addService(TestService, {
    echo: () => ({ errcode: 0, errmsg: "", flightsInfo: "" }),
    fail: () => ({ errcode: 0, errmsg: "", flightsInfo: "" }),
    crash: () => ({ errcode: 0, errmsg: "", flightsInfo: "" }),
    wait: () => ({ errcode: 0, errmsg: "", flightsInfo: "" }),
  });
  const listenError = await rpcError(t, server.start());
  t.is(listenError.code, Code.UNAVAILABLE);
  t.is(
    listenError.rawMessage,
    `netlink transport unavailable: native addon native/netlink not built: ${missing} does not exist ` +
      "(run npm rebuild msf, or approve msf's install scripts; in a clone: node scripts/build-native.mjs)",
  );

  const channel = createChannel("netlink://1", { timeoutMs: 2000 });
  t.teardown(() => channel.close());
  const callError = await rpcError(t, channel.unary(TestService.methods.echo, request("x")));
  t.is(callError.code, Code.UNAVAILABLE);
  t.regex(callError.message, /netlink transport unavailable: native addon native\/netlink not built/);

  const others = await startTestServer(t, ["udp://127.0.0.1:0", `unix:@msf-nl-missing-${process.pid}`]);
  for (const address of others.addresses) {
    const other = createChannel(address, { timeoutMs: 5000 });
    t.teardown(() => other.close());
    t.is((await other.unary(TestService.methods.echo, request(address))).flightsInfo, address);
  }
});

test.serial("a file that is no addon: the reason says it does not load; the real addon loads again afterwards", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "msf-nl-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const broken = join(dir, "netlink.node");
  writeFileSync(broken, "not a shared object");
  setNetlinkAddonPath(broken);
  const channel = createChannel("netlink://1", { timeoutMs: 2000 });
  t.teardown(() => channel.close());
  const error = await rpcError(t, channel.unary(TestService.methods.echo, request("x")));
  t.is(error.code, Code.UNAVAILABLE);
  t.regex(error.rawMessage, new RegExp(`netlink transport unavailable: native addon ${broken.replace(/[.]/g, "\\.")} does not load: `));

  setNetlinkAddonPath(undefined);
  const server = await startTestServer(t, ["netlink://0"]);
  const working = createChannel(server.addresses[0]!, { timeoutMs: 5000 });
  t.teardown(() => working.close());
  t.is((await working.unary(TestService.methods.echo, request("back"))).flightsInfo, "back");
});
