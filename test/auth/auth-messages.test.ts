import test from "ava";
import { randomBytes } from "node:crypto";
import {
  AuthMessageError,
  AuthStepType,
  decodeAuthMessage,
  encodeAuthMessage,
  type AuthMessage,
} from "../../runtime/auth/index.js";

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

/** One well-formed example of every step (SUCCESS twice: with and without proof). */
const examples: AuthMessage[] = [
  { step: AuthStepType.CHALLENGE, algorithm: 1, id: 0xdeadbeef, challenge: bytes(32, 1), serverName: "flightd" },
  {
    step: AuthStepType.RESPONSE,
    id: 7,
    flags: 1,
    clientName: "älice",
    clientNonce: bytes(32, 2),
    mac: bytes(32, 3),
  },
  { step: AuthStepType.SUCCESS, sessionId: bytes(16, 4), proof: bytes(32, 5) },
  { step: AuthStepType.SUCCESS, sessionId: bytes(16, 4), proof: new Uint8Array(0) },
  { step: AuthStepType.FAILURE, message: "UNAUTHENTICATED: authentication failed" },
  { step: AuthStepType.FAILURE, message: "" },
  { step: AuthStepType.RECHALLENGE, id: 1, challenge: bytes(16, 6) },
  { step: AuthStepType.REANSWER, id: 0xffffffff, mac: bytes(32, 7) },
];

test("every step round-trips through encode and decode", (t) => {
  for (const message of examples) {
    t.deepEqual(decodeAuthMessage(encodeAuthMessage(message)), message, AuthStepType[message.step]);
  }
});

test("the byte layout is the documented one (CHALLENGE)", (t) => {
  const body = encodeAuthMessage(examples[0]!);
  t.deepEqual([...body.subarray(0, 7)], [1, 1, 0xde, 0xad, 0xbe, 0xef, 32]);
  t.is(body[39], 7);
  t.is(new TextDecoder().decode(body.subarray(40)), "flightd");
  t.is(body.length, 1 + 1 + 4 + 1 + 32 + 1 + 7);
});

test("every truncation point of every step is rejected with an AuthMessageError", (t) => {
  let checked = 0;
  for (const message of examples) {
    const body = encodeAuthMessage(message);
    for (let length = 0; length < body.length; length++) {
      const error = t.throws(() => decodeAuthMessage(body.subarray(0, length)), { instanceOf: AuthMessageError });
      t.regex(error!.message, /^malformed AUTH body: /);
      t.regex(error!.message, length === 0 ? /empty body/ : /truncated/, `${AuthStepType[message.step]} cut at ${length}`);
      checked++;
    }
  }
  t.true(checked > 250);
});

test("trailing bytes, unknown steps and oversized bodies are rejected", (t) => {
  const body = encodeAuthMessage(examples[6]!);
  const longer = new Uint8Array(body.length + 1);
  longer.set(body);
  t.throws(() => decodeAuthMessage(longer), { instanceOf: AuthMessageError, message: /1 unexpected trailing byte/ });
  t.throws(() => decodeAuthMessage(Uint8Array.of(9)), { instanceOf: AuthMessageError, message: /unknown step 9/ });
  t.throws(() => decodeAuthMessage(Uint8Array.of(0)), { instanceOf: AuthMessageError, message: /unknown step 0/ });
  t.throws(() => decodeAuthMessage(new Uint8Array(2049).fill(1)), {
    instanceOf: AuthMessageError,
    message: /2049 bytes; no AUTH message exceeds 2048/,
  });
});

test("length fields outside their bounds are rejected before reading the field", (t) => {
  // CHALLENGE whose challenge length says 8 (< 16).
  const shortChallenge = Uint8Array.of(1, 1, 0, 0, 0, 1, 8, ...bytes(8, 1), 1, 0x61);
  t.throws(() => decodeAuthMessage(shortChallenge), { message: /challenge length is 8 at byte 6: expected 16\.\.64/ });
  // RESPONSE whose mac length says 255: refused on the length, not on missing bytes.
  const body = encodeAuthMessage(examples[1]!);
  const macLengthAt = body.length - 33;
  const bad = Uint8Array.from(body);
  bad[macLengthAt] = 255;
  t.throws(() => decodeAuthMessage(bad), { message: new RegExp(`mac length is 255 at byte ${macLengthAt}: expected 32`) });
  // SUCCESS with a 5-byte proof.
  const oddProof = Uint8Array.of(3, 16, ...bytes(16, 1), 5, ...bytes(5, 2));
  t.throws(() => decodeAuthMessage(oddProof), { message: /proof is 5 bytes: expected 0 or 32/ });
  // FAILURE announcing more than the limit.
  t.throws(() => decodeAuthMessage(Uint8Array.of(4, 0xff, 0xff)), { message: /length 65535 exceeds the limit of 1024/ });
});

test("names must be UTF-8 without control characters and not empty", (t) => {
  const challenge = (name: number[]) => Uint8Array.of(1, 1, 0, 0, 0, 1, 16, ...bytes(16, 1), name.length, ...name);
  t.throws(() => decodeAuthMessage(challenge([0xc3, 0x28])), { message: /server name at byte 24 is not valid UTF-8/ });
  t.throws(() => decodeAuthMessage(challenge([0x61, 0x0a])), { message: /server name contains a control character/ });
  t.throws(() => decodeAuthMessage(challenge([])), { message: /server name is empty/ });
  t.throws(() => encodeAuthMessage({ ...examples[1]!, clientName: "x".repeat(256) } as AuthMessage), {
    instanceOf: RangeError,
    message: /256 UTF-8 bytes; the limit is 255/,
  });
});

test("random corruption never escapes as anything but AuthMessageError or a valid message", (t) => {
  let rejected = 0;
  for (let round = 0; round < 3000; round++) {
    const original = encodeAuthMessage(examples[round % examples.length]!);
    const corrupted = Uint8Array.from(original);
    const noise = randomBytes(3);
    corrupted[noise[0]! % corrupted.length] = noise[1]!;
    const cut = noise[2]! % 4 === 0 ? corrupted.subarray(0, noise[2]! % corrupted.length) : corrupted;
    try {
      const decoded = decodeAuthMessage(cut);
      // Whatever decodes re-encodes to the same bytes: no field was read beyond its length.
      t.deepEqual(encodeAuthMessage(decoded), Uint8Array.from(cut));
    } catch (error) {
      if (!(error instanceof AuthMessageError)) throw error;
      rejected++;
    }
  }
  t.true(rejected > 0);
});
