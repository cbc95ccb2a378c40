// What a partial frame costs the receiver: a header declaring a body within the limit must not
// make the parser reserve the whole declared length before the bytes arrive (a peer sending 24
// bytes per connection would otherwise pin maxBodyBytes per connection). Measured with
// process.memoryUsage().arrayBuffers over many parsers, against generous bounds.
import test from "ava";
import { DEFAULT_MAX_BODY_BYTES, FrameKind, FrameParser, HEADER_BYTES, encodeFrame } from "msf/internal";

const PARSERS = 64;
const MiB = 1024 * 1024;

function arrayBufferBytes(): number {
  global.gc?.();
  return process.memoryUsage().arrayBuffers;
}

test("64 headers declaring 4 MiB each, with 100 body bytes sent: well under 64 × 4 MiB held", (t) => {
  const header = encodeFrame({ kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 1, method: 7, timeoutMs: 0 }, new Uint8Array(0));
  // The header of a frame whose body is DEFAULT_MAX_BODY_BYTES long: allowed, but not sent.
  header[20] = DEFAULT_MAX_BODY_BYTES >>> 24;
  header[21] = (DEFAULT_MAX_BODY_BYTES >>> 16) & 0xff;
  header[22] = (DEFAULT_MAX_BODY_BYTES >>> 8) & 0xff;
  header[23] = DEFAULT_MAX_BODY_BYTES & 0xff;
  const before = arrayBufferBytes();
  const parsers: FrameParser[] = [];
  let delivered = 0;
  for (let i = 0; i < PARSERS; i++) {
    const parser = new FrameParser({ onFrame: () => delivered++ });
    parser.push(header);
    parser.push(new Uint8Array(100));
    parsers.push(parser);
  }
  const held = arrayBufferBytes() - before;
  t.log(`${PARSERS} parsers, each with a 4 MiB body declared and 100 bytes received: ${(held / MiB).toFixed(1)} MiB of ArrayBuffers held`);
  t.is(delivered, 0);
  t.true(parsers.every((parser) => parser.buffered === HEADER_BYTES + 100));
  // Reserving the declared length would hold 256 MiB; growing with the bytes received holds 64 × 64 KiB = 4 MiB.
  t.true(held < (PARSERS * DEFAULT_MAX_BODY_BYTES) / 8, `${held} bytes held`);
});

test("the buffer of a body in progress grows with the bytes, and the frame still arrives whole", (t) => {
  const body = new Uint8Array(3 * MiB + 5);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
  const frame = encodeFrame({ kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 2, method: 7, timeoutMs: 0 }, body);
  let received: Uint8Array | undefined;
  const parser = new FrameParser({ onFrame: (_header, frameBody) => (received = frameBody) });
  for (let at = 0; at < frame.length; at += 65_536) parser.push(frame.subarray(at, at + 65_536));
  t.is(received?.length, body.length);
  t.true(Buffer.from(received!).equals(Buffer.from(body)));
  t.is(parser.buffered, 0);
});
