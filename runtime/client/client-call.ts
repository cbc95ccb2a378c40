import type { MethodDefinition } from "../definition.js";
import type { Timed, TimerList } from "../timer-queue.js";
import type { ClientConnection } from "./client-connection.js";

/** What a ClientCall reports its deadline and its caller's abort to. */
export interface CallOwner {
  expire(call: ClientCall): void;
  abort(call: ClientCall): void;
}

/**
 * One async call from start to settlement: the only object allocated per call besides the
 * caller's promise and the encoded request. It is its own deadline-queue entry (Timed) and its
 * own abort listener (handleEvent), so neither needs a closure. Construct it right after
 * newCallPromise(): it takes that promise's resolve and reject.
 */
export class ClientCall implements Timed {
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  /** False once resolved or rejected: later events (late reply, abort, deadline) are ignored. */
  pending = true;
  /** Assigned when written on a connection. */
  seq = 0;
  connection: ClientConnection | undefined = undefined;
  /** Already sent again once after a refusal (FrameFlags.REFUSED). */
  resent = false;
  signal: AbortSignal | undefined = undefined;

  timerAt = 0;
  timerPrev: Timed | undefined = undefined;
  timerNext: Timed | undefined = undefined;
  timerList: TimerList | undefined = undefined;

  constructor(
    private readonly owner: CallOwner,
    readonly method: MethodDefinition,
    /**
     * The request message, kept (not its encoding: bodies are copied into the connection's
     * outbox at once and should die young) to encode it again if the server refuses the call
     * unstarted.
     */
    readonly request: unknown,
    readonly metadataBlock: Uint8Array | undefined,
    /** Absolute deadline (Date.now() ms), Infinity for none. */
    readonly deadline: number,
    /** The timeout the deadline came from, for messages. */
    readonly timeoutMs: number | undefined,
  ) {
    this.resolve = capturedResolve;
    this.reject = capturedReject;
  }

  onDeadline(): void {
    this.owner.expire(this);
  }

  /** AbortSignal listener (an EventListener object, so no closure is needed). */
  handleEvent(): void {
    this.owner.abort(this);
  }
}

// A shared executor instead of an arrow function per call: it hands resolve and reject to the
// next ClientCall constructed through these two variables (the executor runs synchronously
// inside `new Promise`).
let capturedResolve: (value: unknown) => void = () => undefined;
let capturedReject: (reason: unknown) => void = () => undefined;

function capture(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/** The caller's promise for the ClientCall constructed next (synchronously, before any other). */
export function newCallPromise(): Promise<unknown> {
  return new Promise(capture);
}
