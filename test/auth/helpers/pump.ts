import type { AuthStep, ClientHandshake, ServerHandshake } from "../../../runtime/auth/index.js";

export interface PumpResult {
  readonly server: AuthStep;
  readonly client: AuthStep | undefined;
  /** Every body that crossed, in order, with its direction. */
  readonly transcript: { from: "server" | "client"; body: Uint8Array }[];
}

/**
 * Runs the two state machines against each other: server.start(), then bodies back and forth
 * until neither side has anything to send. Returns each side's last step.
 */
export async function pump(server: ServerHandshake, client: ClientHandshake): Promise<PumpResult> {
  const transcript: { from: "server" | "client"; body: Uint8Array }[] = [];
  let toClient: Uint8Array | undefined = server.start();
  let serverStep: AuthStep | undefined;
  let clientStep: AuthStep | undefined;
  for (let round = 0; round < 10 && toClient !== undefined; round++) {
    transcript.push({ from: "server", body: toClient });
    clientStep = client.receive(toClient);
    toClient = undefined;
    if (clientStep.send === undefined) break;
    transcript.push({ from: "client", body: clientStep.send });
    serverStep = await server.receive(clientStep.send);
    toClient = serverStep.send;
    if (serverStep.fail !== undefined) {
      if (toClient !== undefined) {
        transcript.push({ from: "server", body: toClient });
        clientStep = client.receive(toClient);
      }
      break;
    }
  }
  if (serverStep === undefined) throw new Error("the server never produced a step");
  return { server: serverStep, client: clientStep, transcript };
}
