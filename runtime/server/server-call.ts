import type { CallContext, PeerInfo } from "../call-context.js";
import { Code } from "../code.js";
import type { Codec } from "../codec/codec.js";
import type { MethodDefinition } from "../definition.js";
import type { Metadata } from "../metadata.js";
import { RpcError } from "../rpc-error.js";
import { type Timed, type TimerList, timerQueue } from "../timer-queue.js";

/**
 * One call being served: the handler's CallContext, and the dispatcher's bookkeeping.
 *
 * The AbortSignal is made on first access: most handlers never look at it, and an
 * AbortController per call (plus a deadline timer entry for it) would be paid by all of them.
 * Until then an abort is only remembered, and applied when the signal is created. What the
 * signal needs lives in a CallSignal made at that moment, so a call that never reads it stays
 * a small object.
 */
export class ServerCall implements CallContext {
  /** Set once the call was cancelled by the client or its connection closed: no reply is sent. */
  silenced = false;
  private abortReason: RpcError | undefined = undefined;
  private callSignal: CallSignal | undefined = undefined;

  constructor(
    readonly method: MethodDefinition,
    readonly deadline: number,
    readonly peer: PeerInfo,
    readonly metadata: Metadata,
    readonly seq: number,
    readonly codec: Codec,
  ) {}

  get signal(): AbortSignal {
    if (this.callSignal !== undefined) return this.callSignal.controller.signal;
    const callSignal = new CallSignal(this);
    this.callSignal = callSignal;
    const signal = callSignal.controller.signal;
    if (this.abortReason !== undefined) {
      callSignal.controller.abort(this.abortReason);
    } else if (this.deadline !== Infinity) {
      const now = Date.now();
      if (now >= this.deadline) callSignal.controller.abort(this.deadlineError());
      else timerQueue.add(callSignal, this.deadline, this.deadline - now);
    }
    return signal;
  }

  /** Aborts the signal (now if it exists, else when it is first read). The first reason wins. */
  abort(reason: RpcError): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    const callSignal = this.callSignal;
    if (callSignal !== undefined) {
      timerQueue.remove(callSignal);
      callSignal.controller.abort(reason);
    }
  }

  /** The call is over: its deadline no longer matters. */
  release(): void {
    if (this.callSignal?.timerList !== undefined) timerQueue.remove(this.callSignal);
  }

  deadlineError(): RpcError {
    return new RpcError(Code.DEADLINE_EXCEEDED, `deadline of ${this.method.fullName} passed`);
  }
}

/** A call's AbortController and its entry in the deadline queue, made when the handler reads `signal`. */
class CallSignal implements Timed {
  readonly controller = new AbortController();
  timerAt = 0;
  timerPrev: Timed | undefined = undefined;
  timerNext: Timed | undefined = undefined;
  timerList: TimerList | undefined = undefined;

  constructor(private readonly call: ServerCall) {}

  onDeadline(): void {
    this.call.abort(this.call.deadlineError());
  }
}
