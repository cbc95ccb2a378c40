// The raw baseline's frame reader must deliver the same frames however the stream is cut, or
// the benchmark's baseline would be measuring a broken protocol.
import test from "ava";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FrameReader, FrameWriter, RAW_HEADER_BYTES, RAW_MAX_BODY_BYTES } from "../../bench/impl/raw-framing.js";

function frame(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(RAW_HEADER_BYTES);
  header.writeUInt32BE(body.length, 0);
  header.writeUInt32BE(id, 4);
  return Buffer.concat([header, body]);
}

const frames = [
  { id: 1, body: Buffer.from("hello") },
  { id: 0xfffffffe, body: Buffer.alloc(0) },
  { id: 7, body: Buffer.alloc(1000, 0x78) },
  { id: 8, body: Buffer.from([0, 1, 2]) },
];
const stream = Buffer.concat(frames.map((f) => frame(f.id, f.body)));

function read(chunks: readonly Buffer[]): { id: number; body: string }[] {
  const got: { id: number; body: string }[] = [];
  const reader = new FrameReader((id, body) => got.push({ id, body: body.toString("hex") }));
  for (const chunk of chunks) reader.push(chunk);
  return got;
}

const expected = frames.map((f) => ({ id: f.id, body: f.body.toString("hex") }));

test("frames packed in one chunk and split at every byte boundary come out whole and in order", (t) => {
  t.deepEqual(read([stream]), expected);
  for (let cut = 1; cut < stream.length; cut++) {
    t.deepEqual(read([stream.subarray(0, cut), stream.subarray(cut)]), expected, `cut at ${cut}`);
  }
});

test("a stream fed one byte at a time and in 3-byte pieces", (t) => {
  const bytes = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
  t.deepEqual(read(bytes), expected);
  const threes = Array.from({ length: Math.ceil(stream.length / 3) }, (_, i) => stream.subarray(i * 3, i * 3 + 3));
  t.deepEqual(read(threes), expected);
});

test("an oversized declared length is an error, not an allocation", (t) => {
  const header = Buffer.alloc(RAW_HEADER_BYTES);
  header.writeUInt32BE(RAW_MAX_BODY_BYTES + 1, 0);
  const reader = new FrameReader(() => t.fail("no frame expected"));
  t.throws(() => reader.push(header), { message: /declares a 4194305-byte body/ });
});

test("the writer's frames, more than one slab's worth queued in one turn, arrive whole and in order", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "msf-raw-framing-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "raw.sock");
  const count = 200;
  const got: number[] = [];
  let bad = 0;
  let done!: () => void;
  const allArrived = new Promise<void>((resolve) => (done = resolve));
  const server = createServer((socket) => {
    const reader = new FrameReader((id, body) => {
      if (body.length !== 700 + id || body.some((byte) => byte !== (id & 0xff))) bad++;
      got.push(id);
      if (got.length === count) done();
    });
    socket.on("data", (chunk: Buffer) => reader.push(chunk));
  });
  server.listen(path);
  await once(server, "listening");
  t.teardown(() => server.close());
  const socket: Socket = connect(path);
  await once(socket, "connect");
  t.teardown(() => socket.destroy());
  const writer = new FrameWriter(socket);
  // 200 frames of ~800 bytes: ~160 KB in one turn, so the writer spans several 64 KB slabs.
  for (let id = 0; id < count; id++) writer.add(id, Buffer.alloc(700 + id, id & 0xff));
  const timeout = setTimeout(done, 5000);
  await allArrived;
  clearTimeout(timeout);
  t.deepEqual(got, Array.from({ length: count }, (_, i) => i));
  t.is(bad, 0);
});
