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
    if (decodeDatagramHeader(datagram, header) !== undefined) {
      stats.count("droppedMalformed");
      return;
    }
    if (header.kind !== CONTROL_KIND) {
      if (early.length < MAX_EARLY_DATAGRAMS) early.push([datagram, receivedAt]);
      return;
    }
    const body = datagram.subarray(HEADER_BYTES, HEADER_BYTES + header.length);
    if (header.method === ControlType.RESET) {
      // Only a RESET echoing our CONNECT is believed.
      if (body.length >= HEADER_BYTES && body[3] === CONTROL_KIND && readU32(body, 12) === ControlType.CONNECT) {
        fail(new RpcError(Code.UNAVAILABLE, `cannot connect to ${target}: the server refused the connection (it is shutting down or has too many peers)`));
      }
      return;
    }
    if (header.method !== ControlType.ACCEPT) return;
    const accept = decodeConnectBody(body);
    if (accept === undefined || !equalBytes(accept.connectionId, connectionId) || settle === undefined) return;
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
      peerMaxBody: accept.maxBodyBytes,
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
