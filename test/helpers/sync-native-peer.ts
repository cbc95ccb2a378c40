/**
 * A scripted msf server for the native blocking-call tests, in its own process (a blocking call
 * blocks its caller's event loop). It speaks raw frames (node:net + the runtime's FrameParser), so
 * it can misbehave on purpose. Run with `node --import tsx --conditions=msf-source`.
 *
 *   sync-native-peer.ts raw <listen-uri>    the scripted server below
 *   sync-native-peer.ts auth <uri> <uri2>   real msf servers (createServer): on <uri> one that
 *                                           requires CHAP (test/auth fixtures: clients "alice" and
 *                                           "bob", server name "flightd"; a re-challenge every
 *                                           100 ms, to be answered within 200 ms), on <uri2> one
 *                                           without authentication; both serve echo and slow of
 *                                           scriptService (flightsInfo = "identity <name>"), and
 *                                           stats: errmsg = JSON { authFailures } (failed
 *                                           authentications seen by the first server)
 *
 * Prints "listening <address>" and serves until killed. Methods of `scriptService`, request and
 * response QueryFlight*:
 *
 *   echo     errmsg = name, flightsInfo = "conn <n>" (n counts connections from 1)
 *   slow     like echo after Number(password) ms
 *   split    like echo, the reply written in 3 pieces 20 ms apart (the header itself is cut)
 *   big      like echo with flightsInfo = "x" × Number(password)
 *   late     no reply until the next request on the connection arrives; then its reply (errmsg
 *            "late") is written just before that request's reply, in the same write
 *   ping     sends PING (seq 77, body = name) and replies once the PONG comes: errmsg = "pong <body>"
 *   goaway   sends GOAWAY, then replies like echo, and keeps the connection open
 *   refuse   sends GOAWAY and refuses the call unstarted (UNAVAILABLE + REFUSED) when password is
 *            "always", or on the first refuse call only when it is "once"; otherwise like echo
 *   drop     closes the connection without replying
 *   garbage  writes 24 bytes that are no frame header
 *   fail     error reply: status Number(password), message name
 *   stats    errmsg = JSON { connections, closed: [ids of connections closed], cancels: ["<id>:<seq>"...] }
 */
import { rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import {
  FrameFlags,
  FrameKind,
  FrameParser,
  encodeErrorBody,
  encodeFrame,
  type FrameHeader,
  type OutgoingHeader,
} from "msf/internal";
import { QueryFlightRequest, QueryFlightResponse } from "./flight-messages.js";
import { scriptService } from "./sync-native-service.js";


type Name = keyof typeof scriptService.methods;
const byId = new Map<number, Name>(Object.entries(scriptService.methods).map(([name, method]) => [method.id, name as Name]));

const stats = { connections: 0, closed: [] as number[], cancels: [] as string[] };
let refusedOnce = false;

function frame(kind: FrameKind, seq: number, body: Uint8Array, status = 0, flags = 0, codec = 0): Uint8Array {
  const header: OutgoingHeader = { kind, codec, flags, status, seq, method: 0, timeoutMs: 0 };
  return encodeFrame(header, body);
}

function answer(seq: number, response: QueryFlightResponse): Uint8Array {
  return frame(FrameKind.RESPONSE, seq, QueryFlightResponse.encode(response).finish());
}

/** A real msf server that requires authentication. */
async function serveWithAuth(listen: string, listenWithout: string): Promise<void> {
  const { credentials } = await import("../auth/helpers/fixtures.js");
  const { createServer: createMsfServer } = await import("msf");
  let authFailures = 0;
  const server = createMsfServer({
    listen: [listen],
    auth: { credentials, serverName: "flightd", rechallengeIntervalMs: 100, rechallengeTimeoutMs: 200, throttle: false },
    onAuthFailure: () => void authFailures++,
  });
  const open = createMsfServer({ listen: [listenWithout] });
  const echo = (request: QueryFlightRequest, identity: string | undefined): QueryFlightResponse => ({
    errcode: 0,
    errmsg: request.name,
    flightsInfo: `identity ${identity}`,
  });
  const { echo: echoMethod, slow: slowMethod, stats: statsMethod } = scriptService.methods;
  for (const each of [server, open]) {
    each.addService(
      { name: "script", fullName: "nativetest.script", methods: { echo: echoMethod, slow: slowMethod, stats: statsMethod } },
      {
        echo: (request, context) => echo(request, context.peer.identity),
        slow: async (request, context) => {
          await sleep(Number(request.password));
          return echo(request, context.peer.identity);
        },
        stats: () => ({ errcode: 0, errmsg: JSON.stringify({ authFailures }), flightsInfo: "" }),
      },
    );
    await each.start();
    for (const address of each.addresses) console.log(`listening ${address}`);
  }
}

async function serveScripted(listen: string): Promise<void> {
  const server = createServer((socket) => {
    const id = ++stats.connections;
    let held: Uint8Array | undefined;
    let pingWaiter: ((body: Uint8Array) => void) | undefined;
    socket.on("error", () => undefined);
    socket.on("close", () => stats.closed.push(id));
    const send = (bytes: Uint8Array): void => {
      if (held !== undefined) {
        // The stale reply goes first, in the same write.
        const both = new Uint8Array(held.length + bytes.length);
        both.set(held);
        both.set(bytes, held.length);
        held = undefined;
        bytes = both;
      }
      socket.write(bytes);
    };
    const serve = (header: FrameHeader, body: Uint8Array): void => {
      const seq = header.seq;
      const name = byId.get(header.method);
      const request = QueryFlightRequest.decode(body);
      const echo = (): QueryFlightResponse => ({ errcode: 0, errmsg: request.name, flightsInfo: `conn ${id}` });
      switch (name) {
        case "echo":
          send(answer(seq, echo()));
          return;
        case "slow":
          setTimeout(() => send(answer(seq, echo())), Number(request.password));
          return;
        case "split": {
          const bytes = answer(seq, echo());
          const cuts = [5, 30, bytes.length];
          let from = 0;
          cuts.forEach((to, index) => {
            const piece = bytes.subarray(from, to);
            from = to;
            setTimeout(() => socket.write(piece), index * 20);
          });
          return;
        }
        case "big":
          send(answer(seq, { ...echo(), flightsInfo: "x".repeat(Number(request.password)) }));
          return;
        case "late":
          held = answer(seq, { errcode: 0, errmsg: "late", flightsInfo: `conn ${id}` });
          return;
        case "ping":
          pingWaiter = (pong) => send(answer(seq, { errcode: 0, errmsg: `pong ${Buffer.from(pong).toString()}`, flightsInfo: `conn ${id}` }));
          send(frame(FrameKind.PING, 77, new TextEncoder().encode(request.name)));
          return;
        case "goaway":
          // GOAWAY first, so the client sees it while it waits for the reply, however the bytes are cut.
          send(frame(FrameKind.GOAWAY, 0, new Uint8Array(0)));
          send(answer(seq, echo()));
          return;
        case "refuse":
          if (request.password === "always" || (request.password === "once" && !refusedOnce)) {
            if (request.password === "once") refusedOnce = true;
            send(frame(FrameKind.GOAWAY, 0, new Uint8Array(0)));
            send(frame(FrameKind.RESPONSE, seq, encodeErrorBody("the server is draining"), 14, FrameFlags.REFUSED));
          } else {
            send(answer(seq, echo()));
          }
          return;
        case "drop":
          socket.destroy();
          return;
        case "garbage":
          socket.write(new Uint8Array(24).fill(0x21));
          return;
        case "fail":
          send(frame(FrameKind.RESPONSE, seq, encodeErrorBody(request.name), Number(request.password)));
          return;
        case "stats":
          send(answer(seq, { errcode: 0, errmsg: JSON.stringify(stats), flightsInfo: `conn ${id}` }));
          return;
        default:
          send(frame(FrameKind.RESPONSE, seq, encodeErrorBody(`no method ${header.method}`), 12));
      }
    };
    const parser = new FrameParser({
      onFrame(header, body) {
        if (header.kind === FrameKind.REQUEST) serve(header, body);
        else if (header.kind === FrameKind.CANCEL) stats.cancels.push(`${id}:${header.seq}`);
        else if (header.kind === FrameKind.PONG && header.seq === 77) {
          const waiter = pingWaiter;
          pingWaiter = undefined;
          waiter?.(body.slice());
        }
      },
    });
    socket.on("data", (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch {
        socket.destroy();
      }
    });
  });
  const unixPath = listen.startsWith("unix:") ? listen.slice(5) : undefined;
  // A socket file left by a killed predecessor (the restart test) would make listen fail.
  if (unixPath !== undefined && !unixPath.startsWith("@") && statSync(unixPath, { throwIfNoEntry: false })?.isSocket()) rmSync(unixPath);
  const tcp = /^tcp:\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(listen);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if (unixPath !== undefined) server.listen(unixPath.startsWith("@") ? `\0${unixPath.slice(1)}` : unixPath, resolve);
    else if (tcp !== null) server.listen(Number(tcp[2]), tcp[1], resolve);
    else reject(new Error(`cannot listen on ${listen}: expected unix:<path>, unix:@<name> or tcp://host:port`));
  });
  const bound = server.address();
  const address =
    typeof bound === "object" && bound !== null
      ? bound.family === "IPv6"
        ? `tcp://[${bound.address}]:${bound.port}`
        : `tcp://${bound.address}:${bound.port}`
      : listen;
  console.log(`listening ${address}`);
}

const [mode, listen, second] = process.argv.slice(2);
if (mode === "raw" && listen !== undefined) await serveScripted(listen);
else if (mode === "auth" && listen !== undefined && second !== undefined) await serveWithAuth(listen, second);
else {
  console.error(`usage: sync-native-peer.ts raw <listen-uri> | auth <listen-uri> <listen-uri>; got ${process.argv.slice(2).join(" ")}`);
  process.exit(2);
}
