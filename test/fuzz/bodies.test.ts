// Malformed request bodies against a real server, as raw frames (a real client cannot send them):
// protobuf, JSON and MessagePack bodies built to be broken (truncated, impossible wire types,
// lengths past the end, invalid UTF-8, the wrong top-level type, trailing bytes), broken metadata
// blocks and unknown codec ids are answered INVALID_ARGUMENT on their own seq, their handler never
// runs, and the connection keeps serving. Random bodies may happen to decode: they are answered
// OK or INVALID_ARGUMENT, never anything else. Over tcp (stream framing) and udp (datagram
// framing). The message is acme.rich.v1.Item of test/golden/rich (every field kind protobuf has).
import test, { type ExecutionContext } from "ava";
import fc from "fast-check";
import { encode as msgpackEncode } from "@msgpack/msgpack";
import { Code, createChannel, createServer } from "msf";
import { FrameFlags, FrameKind, decodeErrorBody, type OutgoingHeader } from "msf/internal";
import { Length_Unit } from "../golden/rich/gen/acme/units.js";
import { Item } from "../golden/rich/gen/rich.js";
import { ItemStoreDefinition, type ItemStoreHandlers } from "../golden/rich/gen/rich.server.js";
import { rawLink, type RawLink } from "../security/helpers/raw-link.js";
import { fcParameters, fuzzRuns } from "./helpers/fuzz-runs.js";

const putItem = ItemStoreDefinition.methods.putItem;
type Verdict = "OK" | "INVALID_ARGUMENT";

/** A server of ItemStore whose putItem counts its runs; closed when the test ends. */
async function itemServer(t: ExecutionContext, listen: string): Promise<{ address: string; runs: () => number }> {
  let runs = 0;
  const handlers: ItemStoreHandlers = {
    getItem: (request) => Item.fromPartial({ id: request.id }),
    putItem: () => {
      runs++;
      return {};
    },
    listItems: () => ({ items: [] }),
    describePart: (request) => ({ value: request.label }),
    measureItem: (request) => ({ value: request.id.length, unit: Length_Unit.UNIT_METRE }),
    now: () => ({ seconds: 0n, nanos: 0 }),
  };
  const server = createServer({ listen: [listen] }).addService(ItemStoreDefinition, handlers);
  await server.start();
  t.teardown(() => server.close({ graceMs: 0 }));
  return { address: server.addresses[0]!, runs: () => runs };
}

/** Sends one REQUEST for putItem and returns its reply's status and error text. */
async function call(link: RawLink, seq: number, codec: number, body: Uint8Array, flags = 0): Promise<{ status: number; text: string }> {
  const header: OutgoingHeader = { kind: FrameKind.REQUEST, codec, flags, status: 0, seq, method: putItem.id, timeoutMs: 5000 };
  link.send(header, body);
  const reply = await link.waitFor((frame) => frame.header.kind === FrameKind.RESPONSE && frame.header.seq === seq, 5000, `the reply to seq ${seq}`);
  return { status: reply.header.status, text: reply.header.status === 0 ? "" : decodeErrorBody(reply.body) };
}

const itemArb: fc.Arbitrary<Item> = fc
  .record({
    id: fc.string({ maxLength: 20 }),
    counts: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 5 }),
    i64: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    u32: fc.integer({ min: 0, max: 0xffffffff }),
    active: fc.boolean(),
    blob: fc.uint8Array({ maxLength: 16 }),
    weight: fc.double({ noNaN: true, noDefaultInfinity: true }),
    parts: fc.array(fc.record({ label: fc.string({ maxLength: 8 }), kind: fc.integer({ min: 0, max: 2 }) }), { maxLength: 3 }),
  })
  .map(({ blob, ...rest }) => Item.fromPartial({ ...rest, blob: Buffer.from(blob) }));

/** varint encoding of a non-negative integer below 2^35. */
function varint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}

const fieldArb = fc.integer({ min: 1, max: 2 ** 29 - 1 });

/** A tail that makes any protobuf message undecodable, appended after a valid one. */
const brokenProtobufTailArb = fc.oneof(
  // Wire types 6 and 7 do not exist.
  fc.tuple(fieldArb, fc.constantFrom(6, 7)).map(([field, wire]) => varint(field * 8 + wire)),
  // A varint that never ends.
  fc.tuple(fieldArb, fc.integer({ min: 1, max: 9 })).map(([field, n]) => [...varint(field * 8), ...Array<number>(n).fill(0x80)]),
  // A length-delimited field claiming more bytes than follow. What follows starts with a field
  // tag: a 0 byte there is the known gap pinned by the failing test at the end of this file.
  fc
    .tuple(fieldArb, fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 1, max: 15 }), fc.constantFrom(0, 1, 2, 5), fc.uint8Array({ maxLength: 8 }))
    .map(([field, extra, inner, wire, bytes]) => {
      const following = [inner * 8 + wire, ...bytes];
      return [...varint(field * 8 + 2), ...varint(following.length + extra), ...following];
    }),
  // A group that is never closed.
  fieldArb.map((field) => varint(field * 8 + 3)),
);

const jsonText = (item: Item) => JSON.stringify(Item.toJSON(item));
const utf8 = (text: string) => new TextEncoder().encode(text);

/** JSON bodies that cannot be a request: cut short, invalid UTF-8, not an object, or a field of the wrong shape. */
const brokenJsonArb = fc.oneof(
  fc.tuple(itemArb, fc.double({ min: 0, max: 1, noNaN: true })).map(([item, at]) => {
    const text = utf8(jsonText(item));
    return text.subarray(0, Math.min(text.length - 1, Math.floor(at * text.length)));
  }),
  fc.tuple(itemArb, fc.nat(), fc.constantFrom(0xff, 0xfe, 0xc0, 0x80)).map(([item, at, bad]) => {
    const text = utf8(jsonText(item));
    const out = new Uint8Array(text.length + 1);
    const cut = at % (text.length + 1);
    out.set(text.subarray(0, cut), 0);
    out[cut] = bad;
    out.set(text.subarray(cut), cut + 1);
    return out;
  }),
  fc.jsonValue().filter((value) => typeof value !== "object" || value === null || Array.isArray(value)).map((value) => utf8(JSON.stringify(value))),
  // An int64 that is no integer literal at all (BigInt() also reads "", " 7 ", "0x1f", "-0b1").
  fc.string({ minLength: 1 }).filter((text) => /[^0-9a-fA-FxXoObB+\-\s]/.test(text)).map((text) => utf8(JSON.stringify({ i64: text }))),
  // Deep nesting (within one udp datagram).
  fc.integer({ min: 1000, max: 20_000 }).map((depth) => utf8(`${"[".repeat(depth)}${"]".repeat(depth)}`)),
);

/** MessagePack bodies that cannot be a request: cut short, trailing bytes, or not a map. */
const brokenMsgpackArb = fc.oneof(
  fc.tuple(itemArb, fc.double({ min: 0, max: 1, noNaN: true })).map(([item, at]) => {
    const packed = msgpackEncode(Item.toJSON(item));
    return packed.subarray(0, Math.min(packed.length - 1, Math.floor(at * packed.length)));
  }),
  fc.tuple(itemArb, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([item, extra]) => {
    const packed = msgpackEncode(Item.toJSON(item));
    const out = new Uint8Array(packed.length + extra.length);
    out.set(packed, 0);
    out.set(extra, packed.length);
    return out;
  }),
  fc.jsonValue().filter((value) => typeof value !== "object" || value === null || Array.isArray(value)).map((value) => msgpackEncode(value)),
  fc.integer({ min: 1000, max: 40_000 }).map((depth) => new Uint8Array([...Array<number>(depth).fill(0x91), 0xc0])),
);

/**
 * A metadata block that breaks a rule (docs/protocol.md, "Metadata block"), given the length of
 * the message that follows it (which a length field must not be able to reach into).
 */
const brokenMetadataArb: fc.Arbitrary<(messageLength: number) => Uint8Array> = fc.oneof(
  // A key length beyond 255.
  fc.integer({ min: 256, max: 0xffff }).map((keyLength) => () => Uint8Array.from([0, 1, keyLength >>> 8, keyLength & 0xff, 0x61])),
  // A key with a character outside a-z 0-9 - _ .
  fc.stringMatching(/^[A-Z !"#$%&'()*+,/:;<=>?@[\]^`{|}~]{1,20}$/).map((key) => () => Uint8Array.from([0, 1, 0, key.length, ...utf8(key), 0, 0, 0, 0])),
  // An empty key.
  fc.constant(() => Uint8Array.from([0, 1, 0, 0, 0, 0, 0, 0])),
  // A value longer than everything after it, message included.
  fc.integer({ min: 1, max: 1 << 20 }).map((extra) => (messageLength: number) => {
    const length = messageLength + extra;
    return Uint8Array.from([0, 1, 0, 1, 0x6b, length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff]);
  }),
  // The same key twice.
  fc.constant(() => Uint8Array.from([0, 2, 0, 1, 0x6b, 0, 0, 0, 0, 0, 1, 0x6b, 0, 0, 0, 0])),
);

for (const [kind, listen] of [
  ["tcp", "tcp://127.0.0.1:0"],
  ["udp", "udp://127.0.0.1:0"],
] as const) {
  test(`${kind}: broken protobuf, JSON, MessagePack and metadata, and unknown codecs, are INVALID_ARGUMENT; the connection serves on`, async (t) => {
    const server = await itemServer(t, listen);
    const link = await rawLink(t, server.address);
    const runs = fuzzRuns(20, 50, 5000);
    let seq = 0;
    const counts: Record<string, number> = {};
    const expectInvalid = async (label: string, codec: number, body: Uint8Array, flags = 0): Promise<boolean> => {
      const reply = await call(link, ++seq, codec, body, flags);
      counts[label] = (counts[label] ?? 0) + 1;
      if (reply.status !== Code.INVALID_ARGUMENT) throw new Error(`${label}: status ${reply.status} (${reply.text}) for ${Buffer.from(body.subarray(0, 64)).toString("hex")}`);
      return true;
    };
    await fc.assert(
      fc.asyncProperty(itemArb, brokenProtobufTailArb, async (item, tail) => {
        const valid = Item.encode(item).finish();
        return expectInvalid("protobuf", 0, Uint8Array.from([...valid, ...tail]));
      }),
      fcParameters(runs),
    );
    await fc.assert(fc.asyncProperty(brokenJsonArb, (body) => expectInvalid("json", 1, body)), fcParameters(runs));
    await fc.assert(fc.asyncProperty(brokenMsgpackArb, (body) => expectInvalid("msgpack", 2, body)), fcParameters(runs));
    await fc.assert(
      fc.asyncProperty(brokenMetadataArb, itemArb, fc.constantFrom(0, 1, 2), async (block, item, codec) => {
        const message = codec === 0 ? Item.encode(item).finish() : codec === 1 ? utf8(jsonText(item)) : msgpackEncode(Item.toJSON(item));
        return expectInvalid("metadata", codec, Uint8Array.from([...block(message.length), ...message]), FrameFlags.METADATA);
      }),
      fcParameters(runs),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 3, max: 255 }), itemArb, async (codec, item) => expectInvalid("codec", codec, Item.encode(item).finish())),
      fcParameters(Math.min(runs, 253)),
    );
    t.log(`${kind}: ${Object.entries(counts).map(([label, n]) => `${n} ${label}`).join(", ")}: all INVALID_ARGUMENT`);
    t.is(server.runs(), 0, "no handler ran for a broken body");
    t.false(link.isClosed, "the connection stayed open");

    // Valid bodies in each codec still work, on the same connection and from a real channel.
    const item = Item.fromPartial({ id: "fine", i64: 5n });
    for (const [codec, body] of [[0, Item.encode(item).finish()], [1, utf8(jsonText(item))], [2, msgpackEncode(Item.toJSON(item))]] as const) {
      t.is((await call(link, ++seq, codec, body)).status, Code.OK);
    }
    const channel = createChannel(server.address, { timeoutMs: 5000 });
    t.teardown(() => channel.close());
    t.deepEqual(await channel.unary(putItem, item), {});
    t.is(server.runs(), 4);
  });

  test(`${kind}: random bodies in every codec are answered OK or INVALID_ARGUMENT, never anything else`, async (t) => {
    const server = await itemServer(t, listen);
    const link = await rawLink(t, server.address);
    const runs = fuzzRuns(20, 50, 5000);
    let seq = 0;
    const verdicts: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 1, 2), fc.uint8Array({ maxLength: 200 }), async (codec, body) => {
        const reply = await call(link, ++seq, codec, body);
        const verdict: Verdict | undefined = reply.status === Code.OK ? "OK" : reply.status === Code.INVALID_ARGUMENT ? "INVALID_ARGUMENT" : undefined;
        if (verdict === undefined) throw new Error(`codec ${codec}: status ${reply.status} (${reply.text})`);
        verdicts[verdict] = (verdicts[verdict] ?? 0) + 1;
        return true;
      }),
      fcParameters(runs),
    );
    t.log(`${kind}: ${runs} random bodies: ${JSON.stringify(verdicts)}`);
    t.is(server.runs(), verdicts.OK ?? 0, "a handler ran exactly for the bodies that decoded");
    t.false(link.isClosed);
  });
}

// ts-proto's generated decode() ends a message at a 0 tag byte without checking it reached the
// message's end, so a body cut inside a sub-message (field 2 of Item, `parts`, announced 2 bytes,
// 1 present and it is 0) or one that starts with a 0 byte would decode as a valid, shorter
// message; the protobuf codec checks the top level first (runtime/codec/protobuf-check.ts).
test("protobuf bodies cut at a 0 byte inside a sub-message, or starting with a 0 byte, are INVALID_ARGUMENT", async (t) => {
  const server = await itemServer(t, "tcp://127.0.0.1:0");
  const link = await rawLink(t, server.address);
  t.is((await call(link, 1, 0, Uint8Array.of(0x12, 0x02, 0x00))).status, Code.INVALID_ARGUMENT);
  t.is((await call(link, 2, 0, Uint8Array.of(0x00, 0xff, 0xff, 0xff))).status, Code.INVALID_ARGUMENT);
  t.is(server.runs(), 0);
});
