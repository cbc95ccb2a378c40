// CHAP sessions for the datagram tests, made by the auth core's own handshake state machines run
// against each other in this process (no transport), so a test can bind the same session to both
// ends of a datagram connection, or a different one to forge tags.
import {
  AuthKey,
  clientHandshake,
  createClientAuth,
  createServerAuth,
  serverHandshake,
  type Session,
} from "../../runtime/auth/index.js";

/** Derived once per test process (scrypt is slow on purpose). */
let aliceKey: string | undefined;

export function aliceKeyHex(): string {
  aliceKey ??= AuthKey.deriveHex("alice", "datagram tests' secret");
  return aliceKey;
}

export interface SessionPair {
  readonly server: Session;
  readonly client: Session;
}

/** Runs one handshake between a server and alice; returns both sides' sessions (they share the key). */
export async function handshakeSessions(): Promise<SessionPair> {
  const serverAuth = createServerAuth({ credentials: { alice: { key: aliceKeyHex() } }, serverName: "flightd", throttle: false });
  const server = serverHandshake(serverAuth, { peerKey: "datagram-test", peerAddress: "udp://127.0.0.1:1" });
  const client = clientHandshake(createClientAuth({ name: "alice", key: aliceKeyHex() }));
  let toClient: Uint8Array | undefined = server.start();
  let serverSession: Session | undefined;
  let clientSession: Session | undefined;
  for (let round = 0; round < 5 && toClient !== undefined; round++) {
    const clientStep = client.receive(toClient);
    toClient = undefined;
    if (clientStep.done !== undefined) clientSession = clientStep.done.session;
    if (clientStep.fail !== undefined) throw new Error(`handshake failed at the client: ${clientStep.fail.message}`);
    if (clientStep.send === undefined) break;
    const serverStep = await server.receive(clientStep.send);
    if (serverStep.fail !== undefined) throw new Error(`handshake failed at the server: ${serverStep.fail.logMessage}`);
    if (serverStep.done !== undefined) serverSession = serverStep.done.session;
    toClient = serverStep.send;
  }
  if (serverSession === undefined || clientSession === undefined) throw new Error("the handshake did not complete");
  return { server: serverSession, client: clientSession };
}
