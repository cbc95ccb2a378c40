import type { MessageType } from "../definition.js";
import { type Event, PublishRequest, PullResponse } from "./gen/msf/events.js";

/**
 * Protobuf encoders and decoders for the two messages that carry event batches, PublishRequest
 * and PullResponse: the same bytes as the generated (ts-proto) code, which stays the reference
 * (JSON and partials are delegated to it; test/events/batch-codec.test.ts compares both ways).
 * They exist for throughput, since every event crosses them twice:
 * - encode measures first and writes once into a buffer of the exact size (the generated writer
 *   grows by doubling, copying and zero-filling, then copies the result once more);
 * - decode returns payloads as views of the received body (the generated code copies each
 *   one; the frame parser guarantees a body stays valid), and reuses the topic string when an
 *   event repeats the previous event's topic (common: one string, one hash for the route cache).
 * Serve the bus with EventBus.definition and publish/pull through them (publisher.ts,
 * subscriber.ts); a peer using the generated code is fully compatible.
 */

// Tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
const TAG_EVENT_TOPIC = 0x0a;
const TAG_EVENT_PAYLOAD = 0x12;
const TAG_EVENT_KEY = 0x1a;
const TAG_PUBLISH_ID = 0x0a;
const TAG_PUBLISH_FIRST_SEQ = 0x10;
const TAG_PUBLISH_EVENTS = 0x1a;
const TAG_PUBLISH_RESYNC = 0x20;
const TAG_PUBLISH_MAX_WAIT = 0x28;
const TAG_PULL_EVENTS = 0x0a;
const TAG_PULL_DROPPED = 0x10;
const TAG_PULL_DROPPED_TOTAL = 0x18;
const TAG_PULL_QUEUED = 0x20;

export const PublishRequestCodec: MessageType<PublishRequest> = {
  encode(message) {
    const { publisherId, firstSeq, events, resync, maxWaitMs } = message;
    const idBytes = Buffer.byteLength(publisherId);
    const sizes = new Array<number>(events.length);
    const sizer = new EventSizer();
    let size = stringFieldSize(idBytes) + uint64FieldSize(firstSeq) + (resync ? 2 : 0) + (maxWaitMs === 0 ? 0 : 1 + varintSize(maxWaitMs));
    for (let index = 0; index < events.length; index++) {
      const eventSize = sizer.size(events[index]!);
      sizes[index] = eventSize;
      size += 1 + varintSize(eventSize) + eventSize;
    }
    const out = new Writer(size);
    if (idBytes > 0) out.string(TAG_PUBLISH_ID, publisherId, idBytes);
    if (firstSeq !== 0n) out.uint64(TAG_PUBLISH_FIRST_SEQ, firstSeq);
    for (let index = 0; index < events.length; index++) out.event(TAG_PUBLISH_EVENTS, events[index]!, sizes[index]!, sizer);
    if (resync) out.varintField(TAG_PUBLISH_RESYNC, 1);
    if (maxWaitMs !== 0) out.varintField(TAG_PUBLISH_MAX_WAIT, maxWaitMs);
    return out.done();
  },
  decode(input) {
    const reader = new Reader(input);
    const message: PublishRequest = { publisherId: "", firstSeq: 0n, events: [], resync: false, maxWaitMs: 0 };
    while (reader.more()) {
      const tag = reader.varint();
      switch (tag) {
        case TAG_PUBLISH_ID:
          message.publisherId = reader.string();
          break;
        case TAG_PUBLISH_FIRST_SEQ:
          message.firstSeq = reader.uint64();
          break;
        case TAG_PUBLISH_EVENTS:
          message.events.push(reader.event());
          break;
        case TAG_PUBLISH_RESYNC:
          message.resync = reader.varint() !== 0;
          break;
        case TAG_PUBLISH_MAX_WAIT:
          message.maxWaitMs = reader.uint32();
          break;
        default:
          reader.skip(tag);
      }
    }
    return message;
  },
  fromJSON: (object) => PublishRequest.fromJSON(object),
  toJSON: (message) => PublishRequest.toJSON(message),
  fromPartial: (object) => PublishRequest.fromPartial(object),
};

export const PullResponseCodec: MessageType<PullResponse> = {
  encode(message) {
    const { events, dropped, droppedTotal, queued } = message;
    const sizes = new Array<number>(events.length);
    const sizer = new EventSizer();
    let size = uint64FieldSize(dropped) + uint64FieldSize(droppedTotal) + (queued === 0 ? 0 : 1 + varintSize(queued));
    for (let index = 0; index < events.length; index++) {
      const eventSize = sizer.size(events[index]!);
      sizes[index] = eventSize;
      size += 1 + varintSize(eventSize) + eventSize;
    }
    const out = new Writer(size);
    for (let index = 0; index < events.length; index++) out.event(TAG_PULL_EVENTS, events[index]!, sizes[index]!, sizer);
    if (dropped !== 0n) out.uint64(TAG_PULL_DROPPED, dropped);
    if (droppedTotal !== 0n) out.uint64(TAG_PULL_DROPPED_TOTAL, droppedTotal);
    if (queued !== 0) out.varintField(TAG_PULL_QUEUED, queued);
    return out.done();
  },
  decode(input) {
    const reader = new Reader(input);
    const message: PullResponse = { events: [], dropped: 0n, droppedTotal: 0n, queued: 0 };
    while (reader.more()) {
      const tag = reader.varint();
      switch (tag) {
        case TAG_PULL_EVENTS:
          message.events.push(reader.event());
          break;
        case TAG_PULL_DROPPED:
          message.dropped = reader.uint64();
          break;
        case TAG_PULL_DROPPED_TOTAL:
          message.droppedTotal = reader.uint64();
          break;
        case TAG_PULL_QUEUED:
          message.queued = reader.uint32();
          break;
        default:
          reader.skip(tag);
      }
    }
    return message;
  },
  fromJSON: (object) => PullResponse.fromJSON(object),
  toJSON: (message) => PullResponse.toJSON(message),
  fromPartial: (object) => PullResponse.fromPartial(object),
};

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

function stringFieldSize(bytes: number): number {
  return bytes === 0 ? 0 : 1 + varintSize(bytes) + bytes;
}

function uint64FieldSize(value: bigint): number {
  if (value === 0n) return 0;
  checkUint64(value);
  return 1 + (value <= BigInt(Number.MAX_SAFE_INTEGER) ? varintSize(Number(value)) : bigVarintSize(value));
}

function bigVarintSize(value: bigint): number {
  let size = 1;
  while (value >= 0x80n) {
    value >>= 7n;
    size++;
  }
  return size;
}

function checkUint64(value: bigint): void {
  if (value < 0n || value > 0xffffffffffffffffn) throw new Error(`uint64 value ${value} out of range`);
}

/** Sizes Event messages, remembering the UTF-8 length of the last topic (events of a batch mostly share one). */
class EventSizer {
  topic = "";
  topicBytes = 0;

  size(event: Event): number {
    const { topic, payload, key } = event;
    if (topic !== this.topic) {
      this.topic = topic;
      this.topicBytes = Buffer.byteLength(topic);
    }
    const keyBytes = key.length === 0 ? 0 : Buffer.byteLength(key);
    return stringFieldSize(this.topicBytes) + (payload.length === 0 ? 0 : 1 + varintSize(payload.length) + payload.length) + stringFieldSize(keyBytes);
  }
}

/** Writes into one buffer of the size measured beforehand. */
class Writer {
  private readonly buffer: Buffer;
  private pos = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  done(): { finish(): Uint8Array } {
    if (this.pos !== this.buffer.length) throw new Error(`internal error: encoded ${this.pos} bytes, measured ${this.buffer.length}`);
    const buffer = this.buffer;
    return { finish: () => buffer };
  }

  varint(value: number): void {
    const buffer = this.buffer;
    while (value >= 0x80) {
      buffer[this.pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 0x80);
    }
    buffer[this.pos++] = value;
  }

  varintField(tag: number, value: number): void {
    this.buffer[this.pos++] = tag;
    this.varint(value);
  }

  uint64(tag: number, value: bigint): void {
    this.buffer[this.pos++] = tag;
    if (value <= BigInt(Number.MAX_SAFE_INTEGER)) {
      this.varint(Number(value));
      return;
    }
    while (value >= 0x80n) {
      this.buffer[this.pos++] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    this.buffer[this.pos++] = Number(value);
  }

  string(tag: number, value: string, bytes: number): void {
    this.buffer[this.pos++] = tag;
    this.varint(bytes);
    this.pos += this.buffer.write(value, this.pos, bytes, "utf8");
  }

  event(tag: number, event: Event, size: number, sizer: EventSizer): void {
    this.buffer[this.pos++] = tag;
    this.varint(size);
    const { topic, payload, key } = event;
    if (topic.length > 0) this.string(TAG_EVENT_TOPIC, topic, topic === sizer.topic ? sizer.topicBytes : Buffer.byteLength(topic));
    if (payload.length > 0) {
      this.buffer[this.pos++] = TAG_EVENT_PAYLOAD;
      this.varint(payload.length);
      this.buffer.set(payload, this.pos);
      this.pos += payload.length;
    }
    if (key.length > 0) this.string(TAG_EVENT_KEY, key, Buffer.byteLength(key));
  }
}

/** Reads protobuf fields from one body; payloads are views of it. Throws Error on malformed input. */
class Reader {
  private readonly buffer: Buffer;
  private pos = 0;
  private end: number;
  /** The last topic read, and where its bytes were, to reuse the string for an identical one. */
  private topic = "";
  private topicStart = -1;
  private topicLength = -1;

  constructor(input: Uint8Array) {
    this.buffer = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    this.end = this.buffer.length;
  }

  more(): boolean {
    return this.pos < this.end;
  }

  varint(): number {
    // Most varints here are tags and short lengths: one or two bytes.
    const buffer = this.buffer;
    const pos = this.pos;
    if (pos + 1 < this.end) {
      const first = buffer[pos]!;
      if (first < 0x80) {
        this.pos = pos + 1;
        return first;
      }
      const second = buffer[pos + 1]!;
      if (second < 0x80) {
        this.pos = pos + 2;
        return (first & 0x7f) | (second << 7);
      }
    }
    return this.longVarint();
  }

  private longVarint(): number {
    const buffer = this.buffer;
    let result = 0;
    let factor = 1;
    for (let count = 0; count < 10; count++) {
      if (this.pos >= this.end) throw new Error("premature end of input in a varint");
      const byte = buffer[this.pos++]!;
      result += (byte & 0x7f) * factor;
      if (byte < 0x80) return result;
      factor *= 0x80;
    }
    throw new Error("malformed varint (more than 10 bytes)");
  }

  /** A uint32 field: the varint's low 32 bits, as the generated reader takes them. */
  uint32(): number {
    return this.varint() >>> 0;
  }

  uint64(): bigint {
    const start = this.pos;
    const small = this.varint();
    if (small <= Number.MAX_SAFE_INTEGER) return BigInt(small);
    let value = 0n;
    let shift = 0n;
    for (let at = start; at < this.pos; at++) {
      value |= BigInt(this.buffer[at]! & 0x7f) << shift;
      shift += 7n;
    }
    return BigInt.asUintN(64, value);
  }

  /** The end of a length-delimited field starting here, checked against the enclosing end. */
  private length(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.end) throw new Error(`length ${length} at offset ${this.pos} runs past the end of its message`);
    return end;
  }

  string(): string {
    const end = this.length();
    const value = this.buffer.toString("utf8", this.pos, end);
    this.pos = end;
    return value;
  }

  event(): Event {
    const messageEnd = this.length();
    const outerEnd = this.end;
    this.end = messageEnd;
    const event: Event = { topic: "", payload: EMPTY, key: "" };
    while (this.pos < messageEnd) {
      const tag = this.varint();
      switch (tag) {
        case TAG_EVENT_TOPIC:
          event.topic = this.topicString();
          break;
        case TAG_EVENT_PAYLOAD: {
          const end = this.length();
          event.payload = this.buffer.subarray(this.pos, end);
          this.pos = end;
          break;
        }
        case TAG_EVENT_KEY:
          event.key = this.string();
          break;
        default:
          this.skip(tag);
      }
    }
    this.end = outerEnd;
    return event;
  }

  private topicString(): string {
    const end = this.length();
    const start = this.pos;
    const length = end - start;
    this.pos = end;
    if (length === this.topicLength && this.sameBytes(this.topicStart, start, length)) return this.topic;
    this.topic = this.buffer.toString("utf8", start, end);
    this.topicStart = start;
    this.topicLength = length;
    return this.topic;
  }

  private sameBytes(a: number, b: number, length: number): boolean {
    const buffer = this.buffer;
    for (let index = 0; index < length; index++) if (buffer[a + index] !== buffer[b + index]) return false;
    return true;
  }

  skip(tag: number): void {
    if (tag < 8) throw new Error(`invalid tag ${tag} (field 0) before offset ${this.pos}`);
    switch (tag & 7) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.pos = this.length();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new Error(`invalid tag ${tag} (field ${Math.floor(tag / 8)}, wire type ${tag & 7}) before offset ${this.pos}`);
    }
  }

  private advance(bytes: number): void {
    if (this.pos + bytes > this.end) throw new Error("premature end of input");
    this.pos += bytes;
  }
}

const EMPTY = Buffer.alloc(0);
