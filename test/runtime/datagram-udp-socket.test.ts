// Which socket carries udp (the datagram addon's batched one, or node:dgram when the addon is not
// built or MSF_UDP_SOCKET=dgram), that both speak the same wire (each side may use either), and
// the address forms the native socket converts between the addon's bytes and node:dgram's text.
import test, { type ExecutionContext } from "ava";
import { Code, RpcError, createChannel } from "msf";
import { UDP_SOCKET_VARIABLE, udpSocketImpl } from "../../runtime/transport/datagram-udp-open.js";
import { formatAddress, rawAddress } from "../../runtime/transport/datagram-udp-native-socket.js";
import { udpTransport } from "../../runtime/transport/udp.js";
import { TestService, request, startTestServer } from "../helpers/runtime-fixtures.js";

const echo = TestService.methods.echo;

/** Runs `fn` with MSF_UDP_SOCKET set to `value` (undefined: unset), restoring it after. */
async function withSocket<T>(value: string | undefined, fn: () => Promise<T> | T): Promise<T> {
  const saved = process.env[UDP_SOCKET_VARIABLE];
  if (value === undefined) delete process.env[UDP_SOCKET_VARIABLE];
  else process.env[UDP_SOCKET_VARIABLE] = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env[UDP_SOCKET_VARIABLE];
    else process.env[UDP_SOCKET_VARIABLE] = saved;
  }
}

test.serial("the addon's socket is the default; MSF_UDP_SOCKET=dgram chooses node:dgram; a bad value is refused", async (t) => {
  t.is(await withSocket(undefined, udpSocketImpl), "native", "the addon is built for these tests");
  t.is(await withSocket("auto", udpSocketImpl), "native");
  t.is(await withSocket("dgram", udpSocketImpl), "dgram");
  const error = await withSocket("fast", () => t.throws(udpSocketImpl, { instanceOf: RpcError }));
  t.is(error?.code, Code.INVALID_ARGUMENT);
  t.regex(error?.message ?? "", /MSF_UDP_SOCKET is "fast"; expected "native", "dgram", "auto" or unset/);
});

/** A server whose udp socket is of `server`'s kind, a channel whose socket is of `client`'s, both lossy. */
async function callAcross(t: ExecutionContext, server: "native" | "dgram", client: "native" | "dgram", listen: string): Promise<void> {
  const started = await withSocket(server, () => startTestServer(t, [`${listen}?dropEvery=4`]));
  const channel = await withSocket(client, async () => {
    const created = createChannel(`${started.addresses[0]}?dropEvery=5`, { timeoutMs: 10_000 });
    // The socket is opened with the first call's connection.
    t.is((await created.unary(echo, request("first"))).flightsInfo, "first");
    return created;
  });
  t.teardown(() => channel.close());
  const names = Array.from({ length: 100 }, (_, i) => `${server}-${client}-${i}`);
  const replies = await Promise.all(names.map((name) => channel.unary(echo, request(name))));
  t.deepEqual(
    replies.map((reply) => reply.flightsInfo),
    names,
  );
}

for (const [server, client] of [
  ["dgram", "dgram"],
  ["native", "dgram"],
  ["dgram", "native"],
] as const) {
  test.serial(`a ${server} server and a ${client} client speak the same wire, with loss both ways (IPv4 and IPv6)`, async (t) => {
    const before = udpTransport.stats.faultDropped;
    await callAcross(t, server, client, "udp://127.0.0.1:0");
    await callAcross(t, server, client, "udp://[::1]:0");
    t.true(udpTransport.stats.faultDropped > before, "datagrams were dropped and sent again");
  });
}

test("addresses: the addon's bytes and node:dgram's text convert both ways", (t) => {
  const cases: [string, 4 | 6][] = [
    ["127.0.0.1", 4],
    ["10.20.30.255", 4],
    ["::1", 6],
    ["::", 6],
    ["1::", 6],
    ["2001:db8::8:800:200c:417a", 6],
    ["1:2:3:4:5:6:7:8", 6],
    ["1:0:0:2::3", 6],
    ["fe80::1%3", 6],
    ["::ffff:10.0.0.1", 6],
  ];
  for (const [address, family] of cases) {
    const raw = rawAddress(address, family);
    t.truthy(raw, address);
    t.is(raw!.length, 24);
    t.is(formatAddress(raw!, family), address, address);
  }
  t.is(formatAddress(rawAddress("2001:0db8:0000:0000:0000:0000:0000:0001", 6)!, 6), "2001:db8::1", "compressed as RFC 5952 says");
  t.is(formatAddress(rawAddress("1:0:0:2:0:0:0:3", 6)!, 6), "1:0:0:2::3", "the longest run of zeros");
  t.deepEqual([...rawAddress("1.2.3.4", 4)!.subarray(0, 4)], [1, 2, 3, 4]);
  for (const [bad, family] of [
    ["1.2.3", 4],
    ["1.2.3.256", 4],
    ["::1", 4],
    ["1:2:3:4:5:6:7:8:9", 6],
    ["1::2::3", 6],
    ["12345::", 6],
    ["fe80::1%eth0", 6],
    ["1.2.3.4", 6],
  ] as const) {
    t.is(rawAddress(bad, family), undefined, bad);
  }
});
