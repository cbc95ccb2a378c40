// Property tests of the stream frame parser (runtime/wire/frame-parser.ts) against hostile input:
// random bytes, plausible-looking garbage, valid frames cut anywhere, truncated streams, oversize,
// wrong magic, version and kind, lying lengths, valid frames mixed with garbage. Whatever comes
// in, the parser throws nothing but ProtocolError (and then refuses all further input), delivers
// only well-formed frames, and never holds more than the limit allows. Case counts: fuzz-runs.ts.
import test from "ava";
import fc from "fast-check";
import { DEFAULT_MAX_BODY_BYTES, FrameKind, HEADER_BYTES, MAGIC, PROTOCOL_VERSION, writeU32 } from "msf/internal";
import { fcParameters, fuzzRuns } from "./helpers/fuzz-runs.js";
import {
  concat,
  cutsArb,
  encodeAll,
  framesArb,
  headerArb,
  parseChunks,
  sameFrame,
  split,
  wellFormed,
  type GeneratedFrame,
  type Parsed,
} from "./helpers/frames.js";

/** Invariants that hold for any input: well-formed frames only, at most one per 24 bytes, bounded buffering, an error inside the input. */
function checkInvariants(parsed: Parsed, total: number, maxBodyBytes = DEFAULT_MAX_BODY_BYTES): void {
  for (const frame of parsed.frames) {
    if (!wellFormed(frame, maxBodyBytes)) throw new Error(`delivered a malformed frame: ${JSON.stringify(frame.header)}`);
  }
  if (parsed.frames.length > Math.floor(total / HEADER_BYTES)) throw new Error(`${parsed.frames.length} frames out of ${total} bytes`);
  if (parsed.parser.buffered > HEADER_BYTES + maxBodyBytes) throw new Error(`buffers ${parsed.parser.buffered} bytes`);
  const error = parsed.error;
  if (error !== undefined) {
    if (error.offset === undefined || error.offset < 0 || error.offset >= total) {
      throw new Error(`error offset ${String(error.offset)} outside the ${total} bytes received: ${error.message}`);
    }
    if (!error.message.startsWith("[INTERNAL] protocol error at byte ")) throw new Error(`unexpected message: ${error.message}`);
  }
}

/** Garbage that often gets past the first checks: right magic and version, any kind, any length. */
const plausibleHeaderArb = fc
  .record({
    magic: fc.oneof(fc.constant(MAGIC), fc.integer({ min: 0, max: 0xffff })),
    version: fc.oneof(fc.constant(PROTOCOL_VERSION), fc.integer({ min: 0, max: 255 })),
    kind: fc.integer({ min: 0, max: 255 }),
    rest: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    length: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 0xffffffff })),
  })
  .map(({ magic, version, kind, rest, length }) => {
    const bytes = new Uint8Array(HEADER_BYTES);
    bytes[0] = magic >>> 8;
    bytes[1] = magic & 0xff;
    bytes[2] = version;
    bytes[3] = kind;
    bytes.set(rest, 4);
    writeU32(bytes, 20, length);
    return bytes;
  });

const garbageArb = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc.array(fc.oneof(plausibleHeaderArb, fc.uint8Array({ maxLength: 40 })), { maxLength: 8 }).map(concat),
);

test("random bytes in random chunks: only ProtocolError, only well-formed frames, bounded", (t) => {
  const runs = fuzzRuns();
  fc.assert(
    fc.property(garbageArb, cutsArb, fc.option(fc.integer({ min: 0, max: 4096 }), { nil: undefined }), (bytes, cuts, maxBodyBytes) => {
      const parsed = parseChunks(split(bytes, cuts), maxBodyBytes);
      checkInvariants(parsed, bytes.length, maxBodyBytes);
    }),
    fcParameters(runs),
  );
  t.log(`${runs} cases`);
  t.pass();
});

test("valid frames cut into random chunks are reassembled identically", (t) => {
  const runs = fuzzRuns();
  fc.assert(
    fc.property(framesArb(8), cutsArb, (frames, cuts) => {
      const parsed = parseChunks(split(encodeAll(frames), cuts));
      return parsed.error === undefined && parsed.parser.buffered === 0 && parsed.frames.length === frames.length && parsed.frames.every((frame, i) => sameFrame(frame, frames[i]!));
    }),
    fcParameters(runs),
  );
  t.log(`${runs} cases`);
  t.pass();
});

const smallFramesArb = fc.array(fc.record({ header: headerArb, body: fc.uint8Array({ maxLength: 40 }) }), { minLength: 1, maxLength: 3 });

test("valid frames split at every byte boundary (two chunks) and fed a byte at a time are reassembled identically", (t) => {
  // Each case parses the stream once per byte boundary: fewer cases, each ~100-200 parses.
  const runs = fuzzRuns(20, 50);
  fc.assert(
    fc.property(smallFramesArb, (frames) => {
      const stream = encodeAll(frames);
      const check = (parsed: Parsed, label: string): void => {
        const ok = parsed.error === undefined && parsed.parser.buffered === 0 && parsed.frames.length === frames.length && parsed.frames.every((frame, i) => sameFrame(frame, frames[i]!));
        if (!ok) throw new Error(`${label}: ${parsed.frames.length} of ${frames.length} frames, error ${String(parsed.error)}`);
      };
      for (let cut = 0; cut <= stream.length; cut++) check(parseChunks([stream.subarray(0, cut), stream.subarray(cut)]), `cut at ${cut}`);
      check(parseChunks(Array.from(stream, (_, i) => stream.subarray(i, i + 1))), "byte at a time");
    }),
    fcParameters(runs),
  );
  t.log(`${runs} cases`);
  t.pass();
});

/** Offsets where each frame of `frames` starts in their encoded stream, and the stream's end. */
function starts(frames: readonly GeneratedFrame[]): number[] {
  const out = [0];
  for (const frame of frames) out.push(out.at(-1)! + HEADER_BYTES + frame.body.length);
  return out;
}

test("a truncated stream delivers exactly the complete frames and waits for the rest, without error", (t) => {
  const runs = fuzzRuns();
  fc.assert(
    fc.property(framesArb(6), fc.double({ min: 0, max: 1, noNaN: true }), cutsArb, (frames, at, cuts) => {
      const stream = encodeAll(frames);
      const end = Math.floor(at * stream.length);
      const parsed = parseChunks(split(stream.subarray(0, end), cuts));
      const bounds = starts(frames);
      const complete = bounds.filter((bound, i) => i > 0 && bound <= end).length;
      const partialStart = bounds[complete]!;
      return (
        parsed.error === undefined &&
        parsed.frames.length === complete &&
        parsed.frames.every((frame, i) => sameFrame(frame, frames[i]!)) &&
        parsed.parser.buffered === end - partialStart
      );
    }),
    fcParameters(runs),
  );
  t.log(`${runs} cases`);
  t.pass();
});

test("a declared length above the limit fails on the header alone, before any body byte arrives", (t) => {
  const runs = fuzzRuns();
  fc.assert(
    fc.property(
      fc.array(fc.record({ header: headerArb, body: fc.uint8Array({ maxLength: 32 }) }), { maxLength: 4 }),
      headerArb,
      fc.integer({ min: 0, max: 1 << 16 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      cutsArb,
      (prefix, header, maxBodyBytes, over, cuts) => {
        const prefixBytes = encodeAll(prefix);
        const prefixOk = prefix.every((frame) => frame.body.length <= maxBodyBytes);
        const oversize = new Uint8Array(HEADER_BYTES);
        writeHeaderFields(oversize, header, maxBodyBytes + 1 + Math.floor(over * (0xffffffff - maxBodyBytes - 1)));
        // Only the prefix and the header: no body byte is ever sent.
        const parsed = parseChunks(split(concat([prefixBytes, oversize]), cuts), maxBodyBytes);
        if (!prefixOk) return parsed.error !== undefined; // a prefix frame was itself over the limit
        return (
          parsed.error !== undefined &&
          parsed.error.offset === prefixBytes.length + 20 &&
          /exceeds the limit of \d+ bytes/.test(parsed.error.message) &&
          parsed.frames.length === prefix.length &&
          parsed.frames.every((frame, i) => sameFrame(frame, prefix[i]!))
        );
      },
    ),
    fcParameters(runs),
  );
  t.log(`${runs} cases`);
  t.pass();
});

function writeHeaderFields(target: Uint8Array, header: GeneratedFrame["header"], length: number): void {
  target[0] = MAGIC >>> 8;
  target[1] = MAGIC & 0xff;
  target[2] = PROTOCOL_VERSION;
  target[3] = header.kind;
  target[4] = header.codec;
  target[5] = header.flags;
  target[6] = header.status >>> 8;
  target[7] = header.status & 0xff;
  writeU32(target, 8, header.seq);
  writeU32(target, 12, header.method);
  writeU32(target, 16, header.timeoutMs);
  writeU32(target, 20, length);
}

/** A corruption of one header field, and where (field offset within the header) and how the parser must report it. */
const corruptionArb = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).filter((magic) => magic !== MAGIC).map((magic) => ({ at: 0, bytes: [magic >>> 8, magic & 0xff], error: /bad magic 0x[0-9a-f]{4}, expected 0x4d53/ })),
  fc.integer({ min: 0, max: 255 }).filter((version) => version !== PROTOCOL_VERSION).map((version) => ({ at: 2, bytes: [version], error: new RegExp(`unsupported protocol version ${version}\\b`) })),
  fc.oneof(fc.constant(0), fc.integer({ min: FrameKind.AUTH + 1, max: 255 })).map((kind) => ({ at: 3, bytes: [kind], error: new RegExp(`unknown frame kind ${kind}, expected 1\\.\\.7`) })),
);

test("wrong magic, version or kind in any frame: ProtocolError at that field's offset; earlier frames delivered intact", (t) => {
  const runs = fuzzRuns();
  fc.assert(
    fc.property(framesArb(4), fc.nat(), corruptionArb, fc.uint8Array({ maxLength: 64 }), cutsArb, (frames, pick, corruption, trailing, cuts) => {
      const index = pick % frames.length;
      const stream = concat([encodeAll(frames), trailing]);
      const frameStart = starts(frames)[index]!;
      corruption.bytes.forEach((byte, i) => (stream[frameStart + corruption.at + i] = byte));
      const parsed = parseChunks(split(stream, cuts));
      return (
        parsed.error !== undefined &&
        parsed.error.offset === frameStart + corruption.at &&
        corruption.error.test(parsed.error.message) &&
        parsed.frames.length === index &&
        parsed.frames.every((frame, i) => sameFrame(frame, frames[i]!))
      );
    }),
    fcParameters(runs),
  );
  t.log(`${runs} cases`);
  t.pass();
});

test("a lying length: earlier frames intact, the liar read with the length it claimed, nothing but ProtocolError after", (t) => {
  const runs = fuzzRuns();
  fc.assert(
    fc.property(framesArb(5), fc.nat(), fc.oneof(fc.integer({ min: 0, max: 128 }), fc.integer({ min: 0, max: 8192 })), cutsArb, (frames, pick, claimed, cuts) => {
      const index = pick % frames.length;
      const stream = encodeAll(frames);
      const frameStart = starts(frames)[index]!;
      writeU32(stream, frameStart + 20, claimed);
      const parsed = parseChunks(split(stream, cuts));
      checkInvariants(parsed, stream.length);
      if (!frames.slice(0, index).every((frame, i) => parsed.frames[i] !== undefined && sameFrame(parsed.frames[i]!, frame))) return false;
      const liar = parsed.frames[index];
      const bodyEnd = frameStart + HEADER_BYTES + claimed;
      if (bodyEnd > stream.length) {
        // Claims more than there is: the parser waits for the rest, holding only what it received.
        return parsed.error === undefined && liar === undefined && parsed.parser.buffered === stream.length - frameStart;
      }
      const expected = { header: { ...frames[index]!.header }, body: stream.subarray(frameStart + HEADER_BYTES, bodyEnd) };
      return liar !== undefined && sameFrame(liar, expected);
    }),
    fcParameters(runs),
  );
  t.log(`${runs} cases`);
  t.pass();
});

test("valid frames, then garbage, then valid frames: the first frames intact, any error inside or after the garbage", (t) => {
  const runs = fuzzRuns();
  fc.assert(
    fc.property(framesArb(4), garbageArb, framesArb(3), cutsArb, (before, garbage, after, cuts) => {
      const head = encodeAll(before);
      const stream = concat([head, garbage, encodeAll(after)]);
      const parsed = parseChunks(split(stream, cuts));
      checkInvariants(parsed, stream.length);
      const intact = before.every((frame, i) => parsed.frames[i] !== undefined && sameFrame(parsed.frames[i]!, frame));
      return intact && (parsed.error === undefined || parsed.error.offset! >= head.length);
    }),
    fcParameters(runs),
  );
  t.log(`${runs} cases`);
  t.pass();
});

test("a header and part of its body: nothing delivered, exactly the bytes received are held", (t) => {
  const runs = fuzzRuns(4);
  fc.assert(
    fc.property(headerArb, fc.integer({ min: 1, max: DEFAULT_MAX_BODY_BYTES }), fc.uint8Array({ maxLength: 3000 }), cutsArb, (header, declared, body, cuts) => {
      const received = body.subarray(0, Math.max(0, Math.min(body.length, declared - 1)));
      const headerBytes = new Uint8Array(HEADER_BYTES);
      writeHeaderFields(headerBytes, header, declared);
      const parsed = parseChunks(split(concat([headerBytes, received]), cuts));
      return parsed.error === undefined && parsed.frames.length === 0 && parsed.parser.buffered === HEADER_BYTES + received.length;
    }),
    fcParameters(runs),
  );
  t.log(`${runs} cases`);
  t.pass();
});

test("frames of any body size up to the limit come through whole, whatever the chunking", (t) => {
  const runs = fuzzRuns(50, 20);
  const sizes = fc.oneof(fc.integer({ min: 60_000, max: 70_000 }), fc.integer({ min: 0, max: 300_000 }));
  fc.assert(
    fc.property(headerArb, sizes, fc.integer({ min: 1, max: 70_000 }), (header, size, chunkBytes) => {
      const body = new Uint8Array(size);
      for (let i = 0; i < size; i++) body[i] = (i * 31 + size) & 0xff;
      const frame: GeneratedFrame = { header, body };
      const stream = encodeAll([frame, frame]);
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < stream.length; at += chunkBytes) chunks.push(stream.subarray(at, at + chunkBytes));
      const parsed = parseChunks(chunks);
      return parsed.error === undefined && parsed.frames.length === 2 && parsed.frames.every((delivered) => sameFrame(delivered, frame));
    }),
    fcParameters(runs),
  );
  t.log(`${runs} cases`);
  t.pass();
});


test("a lowered limit applies from the next header on and names its reason; restored, large frames pass again", (t) => {
  const frames = [
    { header: { kind: FrameKind.AUTH, codec: 0, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0 }, body: new Uint8Array(2048) },
    { header: { kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 1, method: 9, timeoutMs: 0 }, body: new Uint8Array(5000) },
  ];
  const stream = encodeAll(frames);
  const restored = parseChunks([]);
  restored.parser.setMaxBodyBytes(2048, "before authentication");
  restored.parser.push(stream.subarray(0, HEADER_BYTES + 2048));
  restored.parser.setMaxBodyBytes(DEFAULT_MAX_BODY_BYTES);
  restored.parser.push(stream.subarray(HEADER_BYTES + 2048));
  t.is(restored.parser.buffered, 0);
  t.deepEqual(restored.frames.map((frame) => frame.body.length), [2048, 5000]);

  const limited = parseChunks([]);
  limited.parser.setMaxBodyBytes(2048, "before authentication");
  const error = t.throws(() => limited.parser.push(stream));
  t.is(error?.message, `[INTERNAL] protocol error at byte ${HEADER_BYTES + 2048 + 20} of the connection stream: frame body of 5000 bytes exceeds the limit of 2048 bytes before authentication`);
});
