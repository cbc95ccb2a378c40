import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import type { PublishJob } from "./publish-job.js";

/**
 * Per-publisher ordering at the bus. A publisher numbers its events (PublishRequest.first_seq
 * + index); the bus remembers, per publisher id, the number it expects next, and handles that
 * publisher's batches strictly one after another in arrival order (`jobs`: the head runs, the
 * others wait behind it even when it is blocked), so its events reach every queue in publish
 * order.
 */
export class PublisherState {
  /** The seq of the next event expected; undefined until a batch was taken (first contact accepts any start). */
  nextSeq: number | undefined = undefined;
  /** Date.now() of its last Publish; an idle state is forgotten after the bus's publisherExpiryMs. */
  lastActive: number;
  /** Its batches not yet answered: jobs[0] runs (or is blocked), the rest wait in order. */
  readonly jobs: PublishJob[] = [];

  constructor(
    readonly id: string,
    now: number,
  ) {
    this.lastActive = now;
  }
}

/**
 * How many leading events of a batch were accepted before (a retransmission): they are skipped
 * and counted as duplicates, idempotently. A batch starting beyond the expected seq is a gap
 * (an earlier batch failed or was lost): RpcError FAILED_PRECONDITION, nothing of it taken,
 * unless `resync` says the publisher knows and continues from `firstSeq`.
 */
export function duplicatesToSkip(
  publisherId: string,
  expected: number | undefined,
  firstSeq: number,
  count: number,
  resync: boolean,
): number {
  if (expected === undefined || firstSeq === expected) return 0;
  if (firstSeq < expected) return Math.min(expected - firstSeq, count);
  if (resync) return 0;
  const missing = firstSeq - expected;
  throw new RpcError(
    Code.FAILED_PRECONDITION,
    `Publish from publisher "${publisherId}": sequence gap: the batch starts at seq ${firstSeq} but ${expected} was expected, ` +
      `so ${missing} earlier event(s) never arrived (an earlier Publish failed); nothing of this batch was taken. ` +
      `Send the next batch with resync set to continue after the gap.`,
  );
}
