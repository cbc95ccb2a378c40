import { randomBytes } from "node:crypto";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { timerQueue, type Timed, type TimerList } from "../timer-queue.js";
import { FrameKind, type FrameHeader, HEADER_BYTES, readU32 } from "../wire/header.js";
import { DatagramConnection } from "./datagram-connection.js";
import {
  CONTROL_KIND,
  ControlType,
  DATAGRAM_OVERHEAD,
  decodeConnectBody,
  decodeDatagramHeader,
  encodeConnectBody,
  encodeControl,
  equalBytes,
} from "./datagram-frame.js";
import type { DatagramOptions } from "./datagram-options.js";
import { DatagramLink, type DatagramSocket, type DatagramSocketEvents } from "./datagram-socket.js";
import type { DatagramStats } from "./datagram-stats.js";
import { FIRST_RETRANSMIT_MS, MAX_EARLY_DATAGRAMS, backoff } from "./datagram-timing.js";
import type { ConnectOptions, Connection } from "./transport.js";

export interface DatagramClientSpec<P> {
  readonly scheme: string;
  /** The server, as a URI (peerAddress of the connection, and messages). */
  readonly target: string;
  readonly peer: P;
  readonly options: DatagramOptions;
  /** The transport's counters. */
  readonly stats: DatagramStats;
  /** Opens the client's socket, aimed at `peer`, with `events` installed; rejects with the system's error. */
  open(events: DatagramSocketEvents<P>): Promise<DatagramSocket<P>>;
}

/** A one-shot timer in the shared queue, calling `fire`. */
class Alarm implements Timed {
  timerAt = 0;
  timerPrev: Timed | undefined = undefined;
  timerNext: Timed | undefined = undefined;
  timerList: TimerList | undefined = undefined;
  constructor(private readonly fire: () => void) {}
  onDeadline(): void {
    this.fire();
  }
  set(delayMs: number): void {
    if (this.timerList !== undefined) timerQueue.remove(this);
    timerQueue.add(this, Date.now() + delayMs, delayMs);
  }
  cancel(): void {
    if (this.timerList !== undefined) timerQueue.remove(this);
  }
}

/**
 * Opens a client connection over a datagram socket: sends CONNECT (a random connection id and
 * the largest body this side accepts) until the server's ACCEPT echoes the id, on the request
 * retransmission schedule, for at most connectTimeoutMs. Rejects with RpcError UNAVAILABLE naming
 * the target when nothing answers in time, when the server refuses (RESET) or when the socket
 * reports nobody listening there. Datagrams that arrive after the ACCEPT's (the server's first
 * handshake frame) are kept for the connection.
 */
export async function connectDatagram<P>(spec: DatagramClientSpec<P>, options: ConnectOptions): Promise<Connection> {
  const { scheme, target, peer, stats } = spec;
  const maxDatagramBytes = spec.options.maxDatagramBytes;
  const receiveMaxBody = Math.min(options.maxBodyBytes, maxDatagramBytes - DATAGRAM_OVERHEAD);
  const connectionId = new Uint8Array(randomBytes(8));
  const early: [Uint8Array, number][] = [];
  let connection: DatagramConnection<P> | undefined;
  let settle: { resolve: (connection: Connection) => void; reject: (error: RpcError) => void } | undefined;
  let socket: DatagramSocket<P> | undefined;
  let link: DatagramLink<P> | undefined;
  const header: FrameHeader = { kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0, length: 0 };

  const fail = (error: RpcError): void => {
    if (settle === undefined) return;
    const { reject } = settle;
    settle = undefined;
    retry.cancel();
    timeout.cancel();
    socket?.close();
    reject(error);
  };

  const opening = (datagram: Uint8Array, receivedAt: number): void => {
    const verdict = openingVerdict(datagram, header, connectionId);
    switch (verdict.t) {
      case "malformed":
        stats.count("droppedMalformed");
        return;
      case "early":
        if (early.length < MAX_EARLY_DATAGRAMS) early.push([datagram, receivedAt]);
        return;
      case "refused":
        fail(new RpcError(Code.UNAVAILABLE, `cannot connect to ${target}: ${REFUSED}`));
        return;
      case "ignored":
        return;
    }
    if (settle === undefined) return;
    retry.cancel();
    timeout.cancel();
    connection = new DatagramConnection({
      role: "client",
      scheme,
      link: link!,
      peer,
      peerAddress: target,
      connectionId,
      maxDatagramBytes,
      receiveMaxBody,
      peerMaxBody: verdict.peerMaxBody,
      parentStats: stats,
      early,
      released: () => socket!.close(),
    });
    const { resolve } = settle;
    settle = undefined;
    resolve(connection);
  };

  const events: DatagramSocketEvents<P> = {
    onDatagram(datagram, _from, receivedAt) {
      if (connection !== undefined) connection.receive(datagram, receivedAt);
      else opening(datagram, receivedAt);
    },
    onUnreachable(error) {
      if (connection !== undefined) connection.unreachable(error);
      else fail(new RpcError(Code.UNAVAILABLE, `cannot connect to ${target}: ${error.message}`, { cause: error }));
    },
    onSendFailures(count) {
      (connection?.stats ?? stats).count("sendFailures", count);
    },
  };

  const connect = encodeControl(ControlType.CONNECT, encodeConnectBody(connectionId, receiveMaxBody), false);
  let interval = FIRST_RETRANSMIT_MS;
  const retry = new Alarm(() => {
    if (settle === undefined) return;
    stats.count("retransmitted");
    link!.transmit(connect, peer);
    interval = backoff(interval);
    retry.set(interval);
  });
  const timeout = new Alarm(() =>
    fail(new RpcError(Code.UNAVAILABLE, `cannot connect to ${target}: no answer within ${options.connectTimeoutMs} ms`)),
  );

  const result = new Promise<Connection>((resolve, reject) => (settle = { resolve, reject }));
  try {
    socket = await spec.open(events);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RpcError(Code.UNAVAILABLE, `cannot connect to ${target}: ${reason}`, { cause: error });
  }
  link = new DatagramLink(socket, spec.options.faults, stats);
  if (settle === undefined) {
    // Failed while opening (the socket reported the peer unreachable at once).
    socket.close();
    return result;
  }
  link.transmit(connect, peer);
  retry.set(interval);
  timeout.set(options.connectTimeoutMs);
  return result;
}

/** Why a server answers RESET to a CONNECT. */
export const REFUSED = "the server refused the connection (it is shutting down or has too many peers)";

/** What a datagram received while opening a connection (before the server's ACCEPT) is. */
export type OpeningVerdict =
  /** The server's ACCEPT of this connection id: the connection is open. */
  | { readonly t: "accepted"; readonly peerMaxBody: number }
  /** A RESET echoing our CONNECT: the server refused it. */
  | { readonly t: "refused" }
  /** A frame that arrived before the ACCEPT (the server's first handshake frame): keep it for the connection. */
  | { readonly t: "early" }
  /** Another control frame (a copy, another connection id, a RESET of something else). */
  | { readonly t: "ignored" }
  | { readonly t: "malformed" };

const REFUSED_VERDICT: OpeningVerdict = { t: "refused" };
const EARLY_VERDICT: OpeningVerdict = { t: "early" };
const IGNORED_VERDICT: OpeningVerdict = { t: "ignored" };
const MALFORMED_VERDICT: OpeningVerdict = { t: "malformed" };

/**
 * Classifies `datagram`, received by a client that sent CONNECT with `connectionId` and has no
 * ACCEPT yet (`header` is scratch space). Shared by the event-loop client (connectDatagram) and
 * the blocking one (runtime/client/sync-native-datagram.ts). Only a RESET echoing our CONNECT is
 * believed, and only an ACCEPT echoing our connection id.
 */
export function openingVerdict(datagram: Uint8Array, header: FrameHeader, connectionId: Uint8Array): OpeningVerdict {
  if (decodeDatagramHeader(datagram, header) !== undefined) return MALFORMED_VERDICT;
  if (header.kind !== CONTROL_KIND) return EARLY_VERDICT;
  const body = datagram.subarray(HEADER_BYTES, HEADER_BYTES + header.length);
  if (header.method === ControlType.RESET) {
    return body.length >= HEADER_BYTES && body[3] === CONTROL_KIND && readU32(body, 12) === ControlType.CONNECT ? REFUSED_VERDICT : IGNORED_VERDICT;
  }
  if (header.method !== ControlType.ACCEPT) return IGNORED_VERDICT;
  const accept = decodeConnectBody(body);
  if (accept === undefined || !equalBytes(accept.connectionId, connectionId)) return IGNORED_VERDICT;
  return { t: "accepted", peerMaxBody: accept.maxBodyBytes };
}
