import test from "ava";
import {
  FrameKind,
  FrameOutbox,
  FrameParser,
  HEADER_BYTES,
  ProtocolError,
  encodeFrame,
  writeU32,
  type FrameHeader,
  type OutgoingHeader,
} from "msf/internal";

interface Seen {
  header: FrameHeader;
  body: number[];
}

function collector(maxBodyBytes?: number): { parser: FrameParser; frames: Seen[] } {
  const frames: Seen[] = [];
  const parser = new FrameParser(
    { onFrame: (header, body) => frames.push({ header: { ...header }, body: [...body] }) },
    maxBodyBytes,
  );
  return { parser, frames };
}

function header(seq: number, kind = FrameKind.REQUEST): OutgoingHeader {
  return { kind, codec: 1, flags: 0, status: kind === FrameKind.RESPONSE ? 3 : 0, seq, method: 0xdeadbeef, timeoutMs: 1500 };
}

const bodies = [[1, 2, 3], [], Array.from({ length: 300 }, (_, i) => i & 0xff)];
const frames = bodies.map((body, i) => encodeFrame(header(i + 1, i === 1 ? FrameKind.CANCEL : FrameKind.REQUEST), new Uint8Array(body)));
const stream = concat(frames);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function checkFrames(t: import("ava").ExecutionContext, seen: Seen[]): void {
  t.is(seen.length, 3);
  seen.forEach((frame, i) => {
    t.is(frame.header.seq, i + 1);
    t.is(frame.header.kind, i === 1 ? FrameKind.CANCEL : FrameKind.REQUEST);
    t.is(frame.header.codec, 1);
    t.is(frame.header.method, 0xdeadbeef);
    t.is(frame.header.timeoutMs, 1500);
    t.is(frame.header.length, bodies[i]!.length);
    t.deepEqual(frame.body, bodies[i]);
  });
}

test("frames packed in one chunk are all delivered, in order", (t) => {
  const { parser, frames: seen } = collector();
  parser.push(stream);
  checkFrames(t, seen);
  t.is(parser.buffered, 0);
});

test("every split point of the stream into two chunks gives the same frames", (t) => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const { parser, frames: seen } = collector();
    parser.push(stream.subarray(0, cut));
    parser.push(stream.subarray(cut));
    checkFrames(t, seen);
  }
});

test("every pair of split points (three chunks) gives the same frames", (t) => {
  // Bounded: the stream is ~370 bytes, so ~68k parses of a few frames each.
  for (let first = 0; first <= stream.length; first += 1) {
    for (let second = first; second <= stream.length; second += 7) {
      const { parser, frames: seen } = collector();
      parser.push(stream.subarray(0, first));
      parser.push(stream.subarray(first, second));
      parser.push(stream.subarray(second));
      if (seen.length !== 3) t.fail(`split at ${first}/${second}: ${seen.length} frames`);
    }
  }
  t.pass();
});

test("a byte at a time gives the same frames", (t) => {
  const { parser, frames: seen } = collector();
  for (let i = 0; i < stream.length; i++) parser.push(stream.subarray(i, i + 1));
  checkFrames(t, seen);
});

test("a body within one chunk is a view of that chunk (no copy)", (t) => {
  let body: Uint8Array | undefined;
  const parser = new FrameParser({ onFrame: (_header, frameBody) => (body = frameBody) });
  const frame = encodeFrame(header(9), new Uint8Array([7, 8, 9]));
  parser.push(frame);
  t.is(body!.buffer, frame.buffer);
  t.is(body!.byteOffset, frame.byteOffset + HEADER_BYTES);
});

function expectProtocolError(
  t: import("ava").ExecutionContext,
  input: Uint8Array,
  message: RegExp,
  offset: number,
  maxBodyBytes?: number,
): void {
  const { parser, frames: seen } = collector(maxBodyBytes);
  const error = t.throws(() => parser.push(input), { instanceOf: ProtocolError, message });
  t.is(error?.offset, offset);
  // The stream has lost its framing: everything after is refused.
  t.throws(() => parser.push(frames[0]!), { instanceOf: ProtocolError });
  t.is(seen.length, 0);
}

test("wrong magic is a protocol error naming the offset", (t) => {
  const bad = frames[0]!.slice();
  bad[0] = 0x47;
  expectProtocolError(t, bad, /bad magic 0x4753/, 0);
});

test("wrong magic in the second frame names that frame's offset in the stream", (t) => {
  const bad = stream.slice();
  bad[frames[0]!.length + 1] = 0;
  const { parser, frames: seen } = collector();
  const error = t.throws(() => parser.push(bad), { instanceOf: ProtocolError });
  t.is(error?.offset, frames[0]!.length);
  t.is(seen.length, 1);
});

test("an unknown version is a protocol error", (t) => {
  const bad = frames[0]!.slice();
  bad[2] = 9;
  expectProtocolError(t, bad, /unsupported protocol version 9/, 2);
});

test("an unknown kind is a protocol error", (t) => {
  const bad = frames[0]!.slice();
  bad[3] = 42;
  expectProtocolError(t, bad, /unknown frame kind 42/, 3);
});

test("garbage is a protocol error", (t) => {
  const garbage = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
  expectProtocolError(t, garbage, /bad magic 0x4745/, 0);
});

test("an oversize length fails on the header alone, before the body is awaited or allocated", (t) => {
  const huge = new Uint8Array(HEADER_BYTES);
  huge.set(frames[0]!.subarray(0, HEADER_BYTES));
  writeU32(huge, 20, 0xffffffff);
  expectProtocolError(t, huge, /body of 4294967295 bytes exceeds the limit of 4194304 bytes/, 20);
  const small = frames[2]!; // 300-byte body
  expectProtocolError(t, small, /exceeds the limit of 100 bytes/, 20, 100);
});

test("a header split across chunks is still checked (offset counts earlier chunks)", (t) => {
  const bad = stream.slice();
  bad[frames[0]!.length + 2] = 7; // version of the second frame
  const { parser } = collector();
  parser.push(bad.subarray(0, frames[0]!.length + 1));
  const error = t.throws(() => parser.push(bad.subarray(frames[0]!.length + 1)), { instanceOf: ProtocolError });
  t.is(error?.offset, frames[0]!.length + 2);
});

test("halt() stops delivery within the chunk", (t) => {
  const seen: number[] = [];
  const parser: FrameParser = new FrameParser({
    onFrame: (frameHeader) => {
      seen.push(frameHeader.seq);
      parser.halt();
    },
  });
  parser.push(stream);
  t.deepEqual(seen, [1]);
});

test("the outbox packs frames back to back and hands each byte out once", (t) => {
  const outbox = new FrameOutbox();
  t.true(outbox.isEmpty);
  t.is(outbox.take(), undefined);
  bodies.forEach((body, i) => outbox.append(header(i + 1, i === 1 ? FrameKind.CANCEL : FrameKind.REQUEST), new Uint8Array(body)));
  const first = outbox.take();
  t.true(first instanceof Uint8Array);
  t.deepEqual([...(first as Uint8Array)], [...stream]);
  t.true(outbox.isEmpty);
  outbox.append(header(4), new Uint8Array([4]));
  const second = outbox.take() as Uint8Array;
  t.deepEqual([...second], [...encodeFrame(header(4), new Uint8Array([4]))]);
  // The first batch was not overwritten by the second.
  t.deepEqual([...(first as Uint8Array)], [...stream]);
});

test("a batch larger than a slab comes out as several buffers, in order", (t) => {
  const outbox = new FrameOutbox();
  const big = new Uint8Array(50_000).fill(5);
  const expected: Uint8Array[] = [];
  for (let seq = 1; seq <= 4; seq++) {
    outbox.append(header(seq), big);
    expected.push(encodeFrame(header(seq), big));
  }
  const out = outbox.take();
  t.true(Array.isArray(out));
  const joined = concat(out as Uint8Array[]);
  t.deepEqual(Buffer.from(joined), Buffer.from(concat(expected)));
  const { parser, frames: seen } = collector();
  parser.push(joined);
  t.deepEqual(seen.map((frame) => frame.header.seq), [1, 2, 3, 4]);
});

test("a metadata block travels before the body and sets the flag", (t) => {
  const block = new Uint8Array([0, 0]);
  const frame = encodeFrame(header(1), new Uint8Array([9]), block);
  const { parser, frames: seen } = collector();
  parser.push(frame);
  t.is(seen[0]!.header.flags & 1, 1);
  t.deepEqual(seen[0]!.body, [0, 0, 9]);
});
