// Sizes and time on datagram transports: a frame too large for one datagram fails at the sender
// with RESOURCE_EXHAUSTED naming the size and the limit (a request at once, a reply as an error
// reply); a server that never answers gives DEADLINE_EXCEEDED after the request was sent again on
// the retransmission schedule and never after its deadline; connecting to nothing is UNAVAILABLE.
import test from "ava";
import { createSocket } from "node:dgram";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, createChannel, createServer } from "msf";
import { CONTROL_KIND, ControlType } from "../../runtime/transport/datagram-frame.js";
import { FrameKind } from "../../runtime/wire/header.js";
import { RawDatagramPeer } from "../helpers/datagram-raw-peer.js";
import type { QueryFlightRequest } from "../helpers/flight-messages.js";
import { FlightServiceDefinition, queryFlightMethod } from "../helpers/flight-service.js";
import { rpcError } from "../helpers/runtime-fixtures.js";

const flight: QueryFlightRequest = { name: "bison", password: "123456", departureCity: "sz", destinationCity: "xz" };

/** A flight server whose reply carries a flightsInfo of Number(destinationCity) bytes; counts its runs. */
async function bigReplyServer(t: import("ava").ExecutionContext, listen: string, options: { maxBodyBytes?: number } = {}) {
  const ran: string[] = [];
  const server = createServer({ listen: [listen], ...options });
  server.addService(FlightServiceDefinition, {
    queryFlight(request: QueryFlightRequest) {
      ran.push(request.name);
      return { errcode: 0, errmsg: "", flightsInfo: "x".repeat(Number(request.destinationCity)) };
    },
  });
  await server.start();
  t.teardown(() => server.close({ graceMs: 0 }));
  return { address: server.addresses[0]!, ran };
}

for (const [label, listen, limit, maxDatagram] of [
  ["udp", "udp://127.0.0.1:0", 65_459, 65_507],
  ["netlink", "netlink://0", 65_488, 65_536],
] as const) {
  test(`${label}: a request larger than one datagram fails RESOURCE_EXHAUSTED at the client, naming size and limit`, async (t) => {
    const { address, ran } = await bigReplyServer(t, listen);
    const channel = createChannel(address, { timeoutMs: 5000 });
    t.teardown(() => channel.close());
    const error = await rpcError(t, channel.unary(queryFlightMethod, { ...flight, name: "too-big", password: "p".repeat(70_000) }));
    t.is(error.code, Code.RESOURCE_EXHAUSTED);
    const scheme = label === "udp" ? "udp" : "netlink";
    t.regex(
      error.rawMessage,
      new RegExp(
        `^request of 700\\d\\d bytes does not fit in one ${scheme} datagram to ${address.replace(/[.[\]]/g, "\\$&")}: ` +
          `at most ${limit} body bytes \\(maxDatagram ${maxDatagram} bytes less 48 of header and authentication trailer\\)$`,
      ),
    );
    // At the limit it goes through; the oversize request never reached the server.
    const fits = await channel.unary(queryFlightMethod, { ...flight, name: "fits", destinationCity: "2", password: "p".repeat(limit - 100) });
    t.is(fits.flightsInfo, "xx");
    t.deepEqual(ran, ["fits"]);
  });

  test(`${label}: a reply larger than one datagram reaches the client as RESOURCE_EXHAUSTED, not as a timeout`, async (t) => {
    const { address, ran } = await bigReplyServer(t, listen);
    const channel = createChannel(address, { timeoutMs: 10_000 });
    t.teardown(() => channel.close());
    const error = await rpcError(t, channel.unary(queryFlightMethod, { ...flight, name: "big-reply", destinationCity: "70000" }));
    t.is(error.code, Code.RESOURCE_EXHAUSTED);
    t.regex(error.rawMessage, new RegExp(`^reply of 700\\d\\d bytes does not fit in one ${label} datagram to ${label}://\\S+: at most ${limit} body bytes`));
    t.deepEqual(ran, ["big-reply"]);
    t.is((await channel.unary(queryFlightMethod, { ...flight, destinationCity: "5" })).flightsInfo, "xxxxx");
  });
}

test("the smaller of both sides' limits applies: the server's maxDatagram, its maxBodyBytes, the client's maxBodyBytes", async (t) => {
  const small = await bigReplyServer(t, "udp://127.0.0.1:0?maxDatagram=4096");
  const toSmall = createChannel(small.address, { timeoutMs: 5000 });
  t.teardown(() => toSmall.close());
  const request = await rpcError(t, toSmall.unary(queryFlightMethod, { ...flight, password: "p".repeat(5000) }));
  t.is(request.code, Code.RESOURCE_EXHAUSTED);
  t.regex(request.rawMessage, /at most 4048 body bytes \(the largest body the server accepts\)$/);
  const reply = await rpcError(t, toSmall.unary(queryFlightMethod, { ...flight, destinationCity: "5000" }));
  t.regex(reply.rawMessage, /^reply of 50\d\d bytes does not fit .* at most 4048 body bytes \(maxDatagram 4096 bytes less 48/);

  const strict = await bigReplyServer(t, "netlink://0", { maxBodyBytes: 1000 });
  const toStrict = createChannel(strict.address, { timeoutMs: 5000, maxBodyBytes: 2000 });
  t.teardown(() => toStrict.close());
  const overServer = await rpcError(t, toStrict.unary(queryFlightMethod, { ...flight, password: "p".repeat(1500) }));
  t.regex(overServer.rawMessage, /at most 1000 body bytes \(the largest body the server accepts\)$/);
  const overClient = await rpcError(t, toStrict.unary(queryFlightMethod, { ...flight, destinationCity: "3000" }));
  t.is(overClient.code, Code.RESOURCE_EXHAUSTED);
  t.regex(overClient.rawMessage, /at most 2000 body bytes \(the largest body the client accepts\)$/);
  t.deepEqual(strict.ran, ["bison"]);
});

test("a server that never answers: DEADLINE_EXCEEDED; the request was sent again, never after its deadline, then CANCEL", async (t) => {
  const silent = await RawDatagramPeer.open(t, { acceptConnects: true });
  const channel = createChannel(silent.uri, { timeoutMs: 400 });
  t.teardown(() => channel.close());
  const started = Date.now();
  const error = await rpcError(t, channel.unary(queryFlightMethod, flight));
  const deadline = started + 400;
  t.is(error.code, Code.DEADLINE_EXCEEDED);
  await silent.waitFor((entry) => entry.kind === FrameKind.CANCEL);
  await sleep(400);
  const copies = silent.received.filter((entry) => entry.kind === FrameKind.REQUEST);
  t.true(copies.length >= 3 && copies.length <= 5, `${copies.length} copies`);
  t.true(copies.every((copy) => copy.seq === copies[0]!.seq), "one call, one seq");
  t.true(copies.every((copy) => copy.at <= deadline + 5), "no copy after the deadline");
  const cancel = silent.received.find((entry) => entry.kind === FrameKind.CANCEL)!;
  t.is(cancel.seq, copies[0]!.seq);
});

test("connecting: nothing bound there is UNAVAILABLE at once; a peer that never accepts is UNAVAILABLE after connectTimeoutMs", async (t) => {
  const probe = createSocket("udp4");
  await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
  const freePort = probe.address().port;
  await new Promise<void>((resolve) => probe.close(resolve));
  const refused = createChannel(`udp://127.0.0.1:${freePort}`, { timeoutMs: 5000 });
  t.teardown(() => refused.close());
  const udpError = await rpcError(t, refused.unary(queryFlightMethod, flight));
  t.is(udpError.code, Code.UNAVAILABLE);
  t.regex(udpError.message, new RegExp(`udp://127\\.0\\.0\\.1:${freePort}.*ECONNREFUSED`));

  const nobody = createChannel("netlink://4000000001", { timeoutMs: 5000 });
  t.teardown(() => nobody.close());
  const netlinkError = await rpcError(t, nobody.unary(queryFlightMethod, flight));
  t.is(netlinkError.code, Code.UNAVAILABLE);
  t.regex(netlinkError.message, /netlink:\/\/4000000001.*ECONNREFUSED \(no netlink socket is bound to port id 4000000001\)/);

  const deaf = await RawDatagramPeer.open(t);
  const unanswered = createChannel(deaf.uri, { timeoutMs: 5000, connectTimeoutMs: 300 });
  t.teardown(() => unanswered.close());
  const timeoutError = await rpcError(t, unanswered.unary(queryFlightMethod, flight));
  t.is(timeoutError.code, Code.UNAVAILABLE);
  t.regex(timeoutError.message, new RegExp(`cannot connect to ${deaf.uri.replace(/\./g, "\\.")}: no answer within 300 ms`));
  const connects = deaf.received.filter((entry) => entry.kind === CONTROL_KIND && entry.method === ControlType.CONNECT);
  t.true(connects.length >= 3, `CONNECT sent ${connects.length} times`);
});
