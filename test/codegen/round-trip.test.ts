// The generated message code (ts-proto under msf-gen's options) carries every feature of
// rich.proto and legacy.proto through binary and JSON round trips. Imports the committed
// golden output, which golden.test.ts proves is what msf-gen generates today.
import test from "ava";
import type { MessageType } from "msf";
import { Currency, Length, Length_Unit } from "../golden/rich/gen/acme/units.js";
import { Any } from "../golden/rich/gen/google/protobuf/any.js";
import { Timestamp } from "../golden/rich/gen/google/protobuf/timestamp.js";
import { StringValue } from "../golden/rich/gen/google/protobuf/wrappers.js";
import { Item, Item_Part, Item_Part_Kind, Status } from "../golden/rich/gen/rich.js";
import { Priority, Ticket } from "../golden/legacy/gen/legacy.js";

// Compile-time: generated message objects satisfy the runtime's MessageType contract.
const messageTypes: Array<MessageType<any>> = [Item, Item_Part, Length, Any, Timestamp, StringValue, Ticket];

function fullItem(): Item {
  const bolt: Item_Part = { label: "bolt", kind: Item_Part_Kind.KIND_BOLT };
  return {
    id: "item-1",
    parts: [bolt, { label: "nut", kind: Item_Part_Kind.KIND_NUT }],
    counts: [1, -2, 2_147_483_647],
    note: "handle with care",
    status: Status.STATUS_ACTIVE,
    i64: -(2n ** 63n),
    u64: 2n ** 64n - 1n,
    s64: -123_456_789_012_345n,
    f64: 2n ** 63n,
    sf64: -(2n ** 62n),
    i32: -5,
    u32: 4_000_000_000,
    s32: -7,
    f32: 123_456,
    ratio: 0.5,
    weight: 1.25,
    active: true,
    blob: Buffer.from([0, 1, 2, 254, 255]),
    partsByName: { bolt, empty: { label: "", kind: Item_Part_Kind.KIND_UNSPECIFIED } },
    namesById: new Map([
      [1n, "one"],
      [-(2n ** 40n), "large negative"],
    ]),
    choice: { $case: "number", value: 9_007_199_254_740_993n },
    createdAt: new Date("2024-02-29T12:34:56.789Z"),
    ttl: { seconds: 90n, nanos: 500_000_000 },
    extra: { typeUrl: "type.googleapis.com/acme.units.Length", value: Buffer.from(Length.encode({ value: 2, unit: Length_Unit.UNIT_METRE }).finish()) },
    maybeName: "maybe",
    maybeCount: -42n,
    maybeFlag: false,
    length: { value: 3.5, unit: Length_Unit.UNIT_FOOT },
    currency: Currency.CURRENCY_EUR,
  };
}

test("every MessageType is complete", (t) => {
  for (const type of messageTypes) {
    for (const method of ["encode", "decode", "fromJSON", "toJSON", "fromPartial"] as const) {
      t.is(typeof type[method], "function", method);
    }
  }
});

test("binary round trip keeps every field of a full message", (t) => {
  const item = fullItem();
  const bytes = Item.encode(item).finish();
  t.true(bytes.length > 100);
  t.deepEqual(Item.decode(bytes), item);
});

test("binary round trip of each oneof case and of absent optional fields", (t) => {
  const cases: Item["choice"][] = [
    { $case: "text", value: "hello" },
    { $case: "part", value: { label: "washer", kind: Item_Part_Kind.KIND_NUT } },
    undefined,
  ];
  for (const choice of cases) {
    const item: Item = { ...Item.fromPartial({}), choice };
    t.deepEqual(Item.decode(Item.encode(item).finish()), item);
  }
  const empty = Item.decode(new Uint8Array(0));
  t.is(empty.note, undefined);
  t.is(empty.createdAt, undefined);
  t.is(empty.maybeName, undefined);
  t.is(empty.i64, 0n);
  t.is(empty.choice, undefined);
});

test("JSON round trip keeps every field, with proto3 JSON forms", (t) => {
  const item = fullItem();
  const json = JSON.parse(JSON.stringify(Item.toJSON(item))) as Record<string, unknown>;
  t.is(json["i64"], "-9223372036854775808");
  t.is(json["u64"], "18446744073709551615");
  t.is(json["createdAt"], "2024-02-29T12:34:56.789Z");
  t.deepEqual(json["partsByName"], { bolt: { label: "bolt", kind: "KIND_BOLT" }, empty: {} });
  t.deepEqual(json["namesById"], { "1": "one", "-1099511627776": "large negative" });
  t.is(json["blob"], Buffer.from([0, 1, 2, 254, 255]).toString("base64"));
  t.is(json["number"], "9007199254740993");
  t.deepEqual(Item.fromJSON(json), item);
});

test("fromPartial fills defaults and keeps what is given", (t) => {
  const item = Item.fromPartial({ id: "x", i64: 5n, parts: [{ label: "p" }] });
  t.is(item.id, "x");
  t.is(item.i64, 5n);
  t.deepEqual(item.parts, [{ label: "p", kind: Item_Part_Kind.KIND_UNSPECIFIED }]);
  t.is(item.status, Status.STATUS_UNSPECIFIED);
  t.deepEqual(item.counts, []);
});

test("proto2: defaults, required and optional fields", (t) => {
  const defaults = Ticket.decode(Ticket.encode(Ticket.fromPartial({ title: "printer on fire" })).finish());
  t.is(defaults.title, "printer on fire");
  t.is(defaults.owner, "nobody");
  t.is(defaults.retries, 3);
  t.is(defaults.priority, Priority.NORMAL);
  t.is(defaults.budget, 1000n);

  const ticket: Ticket = {
    title: "t",
    owner: "ops",
    retries: 0,
    priority: Priority.HIGH,
    budget: -1n,
    urgent: true,
    tags: ["a", "b"],
    payload: Buffer.from("xyz"),
  };
  t.deepEqual(Ticket.decode(Ticket.encode(ticket).finish()), ticket);
  t.deepEqual(Ticket.fromJSON(JSON.parse(JSON.stringify(Ticket.toJSON(ticket)))), ticket);
});
