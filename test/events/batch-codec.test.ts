// The batch codec (runtime/events/batch-codec.ts) against the generated ts-proto code, its
// reference: the same bytes out, the same messages in, and clear errors on malformed input.
import test from "ava";
import fc from "fast-check";
import { deepStrictEqual } from "node:assert/strict";
import { PublishRequestCodec, PullResponseCodec } from "../../runtime/events/batch-codec.js";
import { type Event, PublishRequest, PullResponse } from "../../runtime/events/gen/msf/events.js";

const RUNS = 300;

// Topics and keys with multi-byte characters, and payloads of every size class of a varint length.
const text = fc.oneof(fc.constantFrom("", "flight.status", "t"), fc.string({ maxLength: 20 }), fc.string({ unit: "grapheme", maxLength: 8 }));
const sized = (min: number, max: number) => fc.tuple(fc.integer({ min, max }), fc.integer({ min: 0, max: 255 })).map(([length, fill]) => new Uint8Array(length).fill(fill));
const payload = fc.oneof(fc.uint8Array({ maxLength: 40 }), sized(126, 130), sized(16_383, 16_385));
const event: fc.Arbitrary<Event> = fc.record({ topic: text, payload: payload.map((bytes) => Buffer.from(bytes)), key: text });
const uint64 = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const uint32 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff }));
const publishRequest: fc.Arbitrary<PublishRequest> = fc.record({
  publisherId: text,
  firstSeq: uint64,
  events: fc.array(event, { maxLength: 6 }),
  resync: fc.boolean(),
  maxWaitMs: uint32,
});
const pullResponse: fc.Arbitrary<PullResponse> = fc.record({
  events: fc.array(event, { maxLength: 6 }),
  dropped: uint64,
  droppedTotal: uint64,
  queued: uint32,
});

/** Messages with payloads as hex, compared by content (views and copies alike). */
function plain(message: PublishRequest | PullResponse): unknown {
  return { ...message, events: message.events.map((item) => ({ ...item, payload: Buffer.from(item.payload).toString("hex") })) };
}

test("PublishRequest: the batch codec writes the generated code's bytes and reads them back the same", (t) => {
  fc.assert(
    fc.property(publishRequest, (message) => {
      const reference = Buffer.from(PublishRequest.encode(message).finish());
      const fast = Buffer.from(PublishRequestCodec.encode(message).finish());
      if (!fast.equals(reference)) throw new Error(`encoded ${fast.toString("hex")}, the generated code ${reference.toString("hex")}`);
      deepStrictEqual(plain(PublishRequestCodec.decode(reference)), plain(PublishRequest.decode(reference)));
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test("PullResponse: the batch codec writes the generated code's bytes and reads them back the same", (t) => {
  fc.assert(
    fc.property(pullResponse, (message) => {
      const reference = Buffer.from(PullResponse.encode(message).finish());
      const fast = Buffer.from(PullResponseCodec.encode(message).finish());
      if (!fast.equals(reference)) throw new Error(`encoded ${fast.toString("hex")}, the generated code ${reference.toString("hex")}`);
      deepStrictEqual(plain(PullResponseCodec.decode(reference)), plain(PullResponse.decode(reference)));
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test("decoding skips unknown fields of every wire type, as the generated code does", (t) => {
  const message: PullResponse = { events: [{ topic: "a.b", payload: Buffer.from("xyz"), key: "k" }], dropped: 3n, droppedTotal: 9n, queued: 2 };
  const known = PullResponse.encode(message).finish();
  // Field 9 varint, field 10 fixed64, field 11 length-delimited, field 12 fixed32.
  const unknown = Buffer.from([0x48, 0x96, 0x01, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5a, 2, 0xaa, 0xbb, 0x65, 1, 2, 3, 4]);
  const input = Buffer.concat([unknown, known, unknown]);
  t.deepEqual(plain(PullResponseCodec.decode(input)), plain(PullResponse.decode(input)));
});

test("payloads are views of the body, and a repeated topic is one string", (t) => {
  const events = [0, 1, 2].map((index) => ({ topic: "same.topic", payload: Buffer.from([index, index]), key: "" }));
  const body = Buffer.from(PullResponse.encode({ events, dropped: 0n, droppedTotal: 0n, queued: 0 }).finish());
  const decoded = PullResponseCodec.decode(body);
  t.is(decoded.events[0]!.payload.buffer, body.buffer, "no copy of the payload");
  t.deepEqual(decoded.events.map((item) => [...item.payload]), [[0, 0], [1, 1], [2, 2]]);
  t.deepEqual(decoded.events.map((item) => item.topic), ["same.topic", "same.topic", "same.topic"]);
});

test("malformed input throws an Error saying what is wrong", (t) => {
  const good = Buffer.from(PublishRequest.encode({ publisherId: "p", firstSeq: 5n, events: [{ topic: "t", payload: Buffer.from("hello"), key: "" }], resync: false, maxWaitMs: 0 }).finish());
  for (let cut = 1; cut < good.length; cut++) {
    const truncated = good.subarray(0, cut);
    let reference: unknown;
    try {
      PublishRequest.decode(truncated);
    } catch (error) {
      reference = error;
    }
    if (reference === undefined) continue;
    t.throws(() => PublishRequestCodec.decode(truncated), { message: /premature end|runs past the end/ }, `cut at ${cut}`);
  }
  t.throws(() => PullResponseCodec.decode(Buffer.from([0x0a, 0x03, 0x0a, 0x09, 0x61])), { message: /length 9 at offset 4 runs past the end of its message/ });
  t.throws(() => PullResponseCodec.decode(Buffer.from([0x0b, 0x00])), { message: /invalid tag 11 \(field 1, wire type 3\)/ });
  t.throws(() => PullResponseCodec.decode(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])), { message: /malformed varint/ });
});
