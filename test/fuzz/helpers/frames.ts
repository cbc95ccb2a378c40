// fast-check arbitraries for msf frames and byte streams, and a parser harness that records what
// a FrameParser delivers (docs/protocol.md is the specification the generators follow).
import fc from "fast-check";
import {
  FrameKind,
  FrameParser,
  HEADER_BYTES,
  ProtocolError,
  encodeFrame,
  type FrameHeader,
  type OutgoingHeader,
} from "msf/internal";

export interface GeneratedFrame {
  readonly header: OutgoingHeader;
  readonly body: Uint8Array;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** Any header a peer may legally send (kinds 1..7, any field values). */
export const headerArb: fc.Arbitrary<OutgoingHeader> = fc.record({
  kind: fc.integer({ min: FrameKind.REQUEST, max: FrameKind.AUTH }),
  codec: fc.integer({ min: 0, max: 255 }),
  flags: fc.integer({ min: 0, max: 255 }),
  status: fc.integer({ min: 0, max: 0xffff }),
  seq: u32,
  method: u32,
  timeoutMs: u32,
});

/** Bodies: mostly small, sometimes empty, sometimes a few KiB (crossing typical chunk sizes). */
export const bodyArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 2, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 200, maxLength: 4096 }) },
);

export const frameArb: fc.Arbitrary<GeneratedFrame> = fc.record({ header: headerArb, body: bodyArb });

/** 1..maxFrames valid frames. */
export function framesArb(maxFrames = 6): fc.Arbitrary<GeneratedFrame[]> {
  return fc.array(frameArb, { minLength: 1, maxLength: maxFrames });
}

/**
 * Cut points for splitting a stream: fractions of its length (so the same arbitrary fits any
 * stream), applied by split(). Empty: one chunk.
 */
export const cutsArb: fc.Arbitrary<number[]> = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

/** Splits `bytes` at the given fractions of its length (sorted, duplicates give empty chunks). */
export function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = cuts.map((cut) => Math.floor(cut * bytes.length)).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

export function encodeAll(frames: readonly GeneratedFrame[]): Uint8Array {
  return concat(frames.map((frame) => encodeFrame(frame.header, frame.body)));
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A frame as delivered: the header fields copied (the parser reuses its object) and the body's bytes. */
export interface Delivered {
  readonly header: FrameHeader;
  readonly body: Uint8Array;
}

export interface Parsed {
  readonly frames: Delivered[];
  /** The ProtocolError that stopped the parser, if any. */
  readonly error: ProtocolError | undefined;
  /** Chunks pushed before the error (or all of them). */
  readonly pushed: number;
  readonly parser: FrameParser;
}

/**
 * Feeds `chunks` to a fresh parser. Anything thrown that is not a ProtocolError is rethrown (the
 * property fails); after a ProtocolError, every further push must throw that same error.
 */
export function parseChunks(chunks: readonly Uint8Array[], maxBodyBytes?: number): Parsed {
  const frames: Delivered[] = [];
  const parser = new FrameParser(
    {
      onFrame(header, body) {
        frames.push({ header: { ...header }, body: Uint8Array.from(body) });
      },
    },
    maxBodyBytes,
  );
  let error: ProtocolError | undefined;
  let pushed = 0;
  for (const chunk of chunks) {
    try {
      parser.push(chunk);
      pushed++;
    } catch (thrown) {
      if (!(thrown instanceof ProtocolError)) throw thrown;
      error = thrown;
      break;
    }
  }
  if (error !== undefined) {
    // The stream has lost its framing: any later input is refused with the same error.
    let again: unknown;
    try {
      parser.push(encodeFrame({ kind: FrameKind.PING, codec: 0, flags: 0, status: 0, seq: 1, method: 0, timeoutMs: 0 }, new Uint8Array(0)));
    } catch (thrown) {
      again = thrown;
    }
    if (again !== error) throw new Error(`after ${String(error)} the parser accepted more input (got ${String(again)})`);
  }
  return { frames, error, pushed, parser };
}

/** True when `delivered` is exactly `sent` (every header field, the length, the body bytes). */
export function sameFrame(delivered: Delivered, sent: GeneratedFrame): boolean {
  const h = delivered.header;
  const s = sent.header;
  return (
    h.kind === s.kind &&
    h.codec === s.codec &&
    h.flags === s.flags &&
    h.status === s.status &&
    h.seq === s.seq &&
    h.method === s.method &&
    h.timeoutMs === s.timeoutMs &&
    h.length === sent.body.length &&
    Buffer.compare(delivered.body, sent.body) === 0
  );
}

/** Invariants of every frame a parser delivers, whatever its input: a legal kind, the length it announced, within the limit. */
export function wellFormed(delivered: Delivered, maxBodyBytes: number): boolean {
  const h = delivered.header;
  return h.kind >= FrameKind.REQUEST && h.kind <= FrameKind.AUTH && h.length === delivered.body.length && h.length <= maxBodyBytes;
}

export { HEADER_BYTES };
