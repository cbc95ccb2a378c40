import test from "ava";
import { Code, RpcError } from "msf";
import { decodeMetadata, encodeMetadata } from "msf/internal";

test("metadata round-trips, from a Map or a record, and the message follows the block", (t) => {
  const metadata = new Map([
    ["x-request-id", "42"],
    ["trace.parent", "00-abc-01"],
    ["user_name", "zoë ✈"],
    ["empty", ""],
  ]);
  const block = encodeMetadata(metadata)!;
  const body = new Uint8Array(block.length + 3);
  body.set(block);
  body.set([1, 2, 3], block.length);
  const decoded = decodeMetadata(body);
  t.deepEqual([...decoded.metadata], [...metadata]);
  t.is(decoded.messageOffset, block.length);
  t.deepEqual([...body.subarray(decoded.messageOffset)], [1, 2, 3]);
  t.deepEqual(encodeMetadata(Object.fromEntries(metadata)), block);
});

test("no metadata encodes to no block", (t) => {
  t.is(encodeMetadata(undefined), undefined);
  t.is(encodeMetadata({}), undefined);
  t.is(encodeMetadata(new Map()), undefined);
});

test("keys must be lower-case ASCII: the bad key is named", (t) => {
  for (const key of ["Upper", "", "with space", "é", "a".repeat(256)]) {
    const error = t.throws(() => encodeMetadata({ [key]: "v" }), { instanceOf: RpcError });
    t.is(error?.code, Code.INVALID_ARGUMENT);
    t.true(error!.message.includes(JSON.stringify(key)));
  }
});

test("every length in a received block is checked against the bytes present", (t) => {
  const block = encodeMetadata({ key: "value" })!;
  // Each truncation point of the block must be reported, never read past.
  for (let cut = 0; cut < block.length; cut++) {
    const error = t.throws(() => decodeMetadata(block.subarray(0, cut)), { instanceOf: RpcError });
    t.is(error?.code, Code.INVALID_ARGUMENT);
    t.regex(error!.message, /malformed metadata block at body offset \d+/);
  }
  const lying = block.slice();
  lying[2 + 2 + 3 + 3] = 0xff; // value length's low byte: far beyond the body
  t.throws(() => decodeMetadata(lying), { message: /value of \d+ bytes runs past the body/ });
  const upper = block.slice();
  upper[4] = "K".charCodeAt(0);
  t.throws(() => decodeMetadata(upper), { message: /not lower-case ASCII/ });
  const twice = encodeMetadata(new Map([["a", "1"], ["b", "2"]]))!;
  twice[2 + 2] = "a".charCodeAt(0); // second key b -> a
  twice[2 + 2 + 1 + 4 + 1 + 2] = "a".charCodeAt(0);
  t.throws(() => decodeMetadata(twice), { message: /appears twice/ });
});
