import type { Session } from "../auth/session.js";
import type { FrameHeader } from "../wire/header.js";
import type { OutgoingHeader } from "../wire/frame-writer.js";

/**
 * The contract between the RPC layer (client channel, server) and the ways bytes travel.
 * The RPC layer speaks frames only; a transport moves them: a stream transport (unix, tcp)
 * packs them back to back in a byte stream (stream-connection.ts), a datagram transport (udp,
 * netlink) sends one frame per datagram and adds connections, retransmission, de-duplication and
 * size limits (datagram-connection.ts). Nothing outside runtime/transport/ knows which
 * transports exist.
 *
 * How to add a transport (three steps):
 *   1. Write `runtime/transport/<scheme>.ts` implementing Transport: `parse` validates a URI of
 *      your scheme, `connect` and `listen` produce Connections (a stream transport wraps its
 *      socket in StreamConnection and gets the framing for free; a datagram transport gives a
 *      DatagramSocket to connectDatagram / DatagramListener and gets the datagram layer).
 *   2. End that file with `registerTransport(yourTransport)`.
 *   3. Import it from `runtime/transport/builtin.ts`, so channels and servers see it.
 * Then `createChannel("<scheme>:...")` and `createServer({ listen: ["<scheme>:..."] })` use it.
 */
export interface Transport {
  /** URI scheme without the colon: "unix", "tcp". */
  readonly scheme: string;
  /** The URI forms it accepts, for error messages: ["unix:/abs/path", "unix:@abstract-name"]. */
  readonly forms: readonly string[];
  /** Validates `uri` (whose scheme is this transport's); throws RpcError INVALID_ARGUMENT naming it and the expected forms. */
  parse(uri: string): Endpoint;
  /**
   * Opens a connection. Rejects with RpcError UNAVAILABLE naming the target when nothing answers
   * (refused, no such socket, unreachable) or when connectTimeoutMs passes.
   */
  connect(endpoint: Endpoint, options: ConnectOptions): Promise<Connection>;
  /** Starts accepting connections; each is handed to `onConnection` before any frame is read. */
  listen(endpoint: Endpoint, options: ListenOptions, onConnection: (connection: Connection) => void): Promise<Listener>;
}

/** A parsed address. Transports put whatever they need in it; `uri` is the normalised form. */
export interface Endpoint {
  readonly scheme: string;
  readonly uri: string;
}

export interface ConnectOptions {
  readonly connectTimeoutMs: number;
  readonly maxBodyBytes: number;
}

export interface ListenOptions {
  readonly maxBodyBytes: number;
  /** File mode of a unix socket file (not abstract names). */
  readonly unixSocketMode: number;
}

export interface Listener {
  /** The address actually bound, as a URI (tcp port 0 resolved to the chosen port). */
  readonly address: string;
  /** Stops accepting (connections already accepted stay open) and releases the address. */
  close(): Promise<void>;
}

/** What a connection reports to its owner. */
export interface ConnectionHandler {
  /**
   * One frame from the peer. `header` is reused for the next frame (read it now); `body` stays
   * valid. Must not throw.
   */
  onFrame(header: FrameHeader, body: Uint8Array): void;
  /**
   * The connection is closed, for good. `error` says why when it was not an orderly close
   * (ProtocolError for broken framing, the socket error, ...). Called once.
   */
  onClose(error: Error | undefined): void;
}

/**
 * One connection, either side. Frames sent in the same tick may be batched into one write; they
 * leave in the order they were sent.
 */
export interface Connection {
  /** The peer, as a URI: "tcp://127.0.0.1:50412"; a unix peer has no address of its own, so the socket's "unix:/path". */
  readonly peerAddress: string;
  readonly closed: boolean;
  /**
   * When (Date.now()) the bytes of the frame being delivered were received. Frames read together
   * share it, so a request that waited behind a slow handler of the same read is seen to have
   * waited (the server's deadline check at dispatch relies on it).
   */
  readonly receivedAt: number;
  /** Installs the handler and starts reading. Called once. */
  start(handler: ConnectionHandler): void;
  /**
   * Queues one frame: `header` is copied at once (the caller may reuse it), so is `body`.
   * When `metadataBlock` is given it precedes the body and FrameFlags.METADATA is set.
   * Ignored once the connection is closed.
   */
  send(header: OutgoingHeader, body: Uint8Array, metadataBlock?: Uint8Array): void;
  /** Sends what is queued, then closes. onClose follows. */
  end(): void;
  /** Closes now, dropping anything queued. onClose follows, with `error` if given. */
  destroy(error?: Error): void;
  /** Whether this connection alone keeps the process alive (a client unrefs an idle one). */
  setRef(ref: boolean): void;
  /**
   * Lowers the largest body accepted in the frames read from now on to `maxBodyBytes` (never
   * above the transport's own limit; a larger frame closes the connection with a ProtocolError
   * naming `reason`), or restores the transport's limit with undefined. A server with
   * authentication keeps it at the largest AUTH body until the client has authenticated, so an
   * unauthenticated peer cannot make it buffer a large frame it will refuse anyway. Stream
   * transports implement it; a datagram is bounded by its datagram limit already.
   */
  limitReceive?(maxBodyBytes: number | undefined, reason?: string): void;
  /**
   * Called on both sides once the CHAP handshake on this connection succeeded (and only when the
   * server requires authentication), with the session both peers now share. A datagram transport
   * uses it to tag every datagram it sends and to drop any that fails its tag (session.tag /
   * session.verify); a stream transport has nothing to do and leaves it out.
   */
  bindSession?(session: Session): void;
}
