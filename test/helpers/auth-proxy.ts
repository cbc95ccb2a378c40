// A frame-watching proxy for the authentication tests: listens on its own address (unix socket or
// tcp), forwards every byte to the real server unchanged, and records every frame crossing it in
// either direction, so a test sees what a real channel and server exchange (AUTH steps included)
// without touching either.
import { connect, createServer, type Server, type Socket } from "node:net";
import { FrameKind, FrameParser } from "msf/internal";
import { AuthStepType, decodeAuthMessage } from "../../runtime/auth/index.js";

export interface ObservedFrame {
  /** Which connection through the proxy (1, 2, ...). */
  readonly connection: number;
  readonly from: "client" | "server";
  readonly kind: FrameKind;
  readonly seq: number;
  readonly method: number;
  /** For AUTH frames: the step's name ("CHALLENGE", "REANSWER", ...). */
  readonly step: string | undefined;
}

export interface FrameProxy {
  /** The address to give the channel: "unix:/..." or "tcp://127.0.0.1:port". */
  readonly address: string;
  readonly frames: ObservedFrame[];
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * Proxies `listen` ("unix:/path" or "tcp://127.0.0.1:0") to `target` (same forms). A frame that
 * does not parse ends that proxied connection.
 */
export async function frameProxy(listen: string, target: string): Promise<FrameProxy> {
  const frames: ObservedFrame[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((client) => {
    const id = ++connections;
    const upstream = connect(netTarget(target));
    sockets.add(client);
    sockets.add(upstream);
    const watch = (from: "client" | "server") =>
      new FrameParser({
        onFrame(header, body) {
          const step = header.kind === FrameKind.AUTH ? AuthStepType[decodeAuthMessage(body).step] : undefined;
          frames.push({ connection: id, from, kind: header.kind, seq: header.seq, method: header.method, step });
        },
      });
    const fromClient = watch("client");
    const fromServer = watch("server");
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk: Buffer) => {
      try {
        fromClient.push(chunk);
      } catch {
        end();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      try {
        fromServer.push(chunk);
      } catch {
        end();
        return;
      }
      client.write(chunk);
    });
    // Half-closes travel through, so "FAILURE then close" looks the same to the client.
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    for (const socket of [client, upstream]) {
      socket.on("error", end);
      socket.on("close", () => {
        sockets.delete(socket);
        end();
      });
    }
  });
  const listenOptions = listen.startsWith("unix:") ? { path: listen.slice(5) } : netTarget(listen);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenOptions, () => resolve());
  });
  const bound = server.address();
  const address = typeof bound === "string" ? `unix:${bound}` : `tcp://127.0.0.1:${bound!.port}`;
  return {
    address,
    frames,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function netTarget(uri: string): { path: string } | { host: string; port: number } {
  if (uri.startsWith("unix:")) return { path: uri.slice(5) };
  const match = /^tcp:\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(uri);
  if (match === null) throw new Error(`frameProxy: not a unix: or tcp:// address: ${uri}`);
  return { host: match[1]!, port: Number(match[2]) };
}
