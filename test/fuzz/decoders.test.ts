// The other decoders a peer's bytes reach before any handler, fed random and mutated input: the
// metadata block (INVALID_ARGUMENT RpcError only), CHAP messages (AuthMessageError only, and no
// AUTH body over 2048 bytes read), datagram headers (a defect or a header whose length matches
// the datagram exactly), and the server-side CHAP state machine fed arbitrary AUTH bodies (it
// fails the handshake, never throws, never authenticates). Case counts: helpers/fuzz-runs.ts.
import test from "ava";
import fc from "fast-check";
import { Code, RpcError } from "msf";
import { decodeMetadata, encodeMetadata, FrameKind, HEADER_BYTES, type FrameHeader } from "msf/internal";
import {
  AuthMessageError,
  AuthStepType,
  createServerAuth,
  decodeAuthMessage,
  encodeAuthMessage,
  serverHandshake,
  type AuthMessage,
  type AuthStep,
} from "../../runtime/auth/index.js";
import { decodeDatagramHeader, TRAILER_BYTES } from "../../runtime/transport/datagram-frame.js";
import { FrameFlags } from "../../runtime/wire/header.js";
import { ALICE_KEY } from "../helpers/auth-fixtures.js";
import { fcParameters, fuzzRuns } from "./helpers/fuzz-runs.js";

/** Flips, inserts or deletes a few bytes of `bytes`. */
const mutationsArb = fc.array(fc.tuple(fc.constantFrom("flip", "insert", "delete"), fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 });

function mutate(bytes: Uint8Array, mutations: readonly (readonly [string, number, number])[]): Uint8Array {
  let out = [...bytes];
  for (const [how, where, value] of mutations) {
    const at = out.length === 0 ? 0 : where % (out.length + (how === "insert" ? 1 : 0));
    if (how === "flip" && out.length > 0) out[at] = out[at]! ^ (value || 1);
    else if (how === "insert") out.splice(at, 0, value);
    else if (how === "delete" && out.length > 0) out.splice(at, 1);
  }
  return Uint8Array.from(out);
}

const metadataArb = fc.dictionary(fc.stringMatching(/^[a-z0-9._-]{1,12}$/), fc.string({ maxLength: 12 }), { maxKeys: 5 });

test("metadata blocks, random or mutated: decoded within the body, or INVALID_ARGUMENT naming an offset", (t) => {
  const runs = fuzzRuns();
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 120 }),
    fc.tuple(metadataArb, fc.uint8Array({ maxLength: 16 }), mutationsArb).map(([entries, message, mutations]) => {
      const block = encodeMetadata(entries) ?? Uint8Array.of(0, 0);
      return mutate(Uint8Array.from([...block, ...message]), mutations);
    }),
  );
  fc.assert(
    fc.property(input, (body) => {
      try {
        const { metadata, messageOffset } = decodeMetadata(body);
        return messageOffset >= 2 && messageOffset <= body.length && metadata.size <= 0xffff;
      } catch (error) {
        return error instanceof RpcError && error.code === Code.INVALID_ARGUMENT && /^malformed metadata block at body offset \d+: /.test(error.rawMessage);
      }
    }),
    fcParameters(runs),
  );
  t.log(`${runs} cases`);
  t.pass();
});

test("metadata that was encoded decodes to the same entries", (t) => {
  const runs = fuzzRuns(4);
  fc.assert(
    fc.property(metadataArb, fc.uint8Array({ maxLength: 16 }), (entries, message) => {
      const block = encodeMetadata(entries);
      if (block === undefined) return Object.keys(entries).length === 0;
      const decoded = decodeMetadata(Uint8Array.from([...block, ...message]));
      return decoded.messageOffset === block.length && JSON.stringify(Object.fromEntries(decoded.metadata)) === JSON.stringify(entries);
    }),
    fcParameters(runs),
  );
  t.pass();
});

const nonce = fc.uint8Array({ minLength: 32, maxLength: 32 });
const authMessageArb: fc.Arbitrary<AuthMessage> = fc.oneof(
  fc.record({ step: fc.constant(AuthStepType.CHALLENGE as const), algorithm: fc.constant(1), id: fc.nat(), challenge: nonce, serverName: fc.constant("flightd") }),
  fc.record({ step: fc.constant(AuthStepType.RESPONSE as const), id: fc.nat(), flags: fc.constantFrom(0, 1), clientName: fc.constantFrom("alice", "bob", "x"), clientNonce: nonce, mac: nonce }),
  fc.record({ step: fc.constant(AuthStepType.REANSWER as const), id: fc.nat(), mac: nonce }),
  fc.record({ step: fc.constant(AuthStepType.FAILURE as const), message: fc.string({ maxLength: 40 }) }),
  fc.constant({ step: AuthStepType.HELLO as const }),
) as fc.Arbitrary<AuthMessage>;

const authBodyArb = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.uint8Array({ minLength: 2040, maxLength: 2100 }),
  fc.tuple(authMessageArb, mutationsArb).map(([message, mutations]) => mutate(encodeAuthMessage(message), mutations)),
);

test("AUTH bodies, random or mutated: a message, or an AuthMessageError naming the byte offset", (t) => {
  const runs = fuzzRuns();
  fc.assert(
    fc.property(authBodyArb, (body) => {
      try {
        const message = decodeAuthMessage(body);
        return body.length <= 2048 && AuthStepType[message.step] !== undefined;
      } catch (error) {
        return error instanceof AuthMessageError && error.offset >= 0 && error.offset <= body.length && error.message.startsWith("malformed AUTH body");
      }
    }),
    fcParameters(runs),
  );
  t.log(`${runs} cases`);
  t.pass();
});

test("the server's handshake fed arbitrary AUTH bodies fails (or waits), never throws, never authenticates", async (t) => {
  const runs = fuzzRuns(4);
  const auth = createServerAuth({ credentials: { alice: { key: ALICE_KEY } }, serverName: "flightd", throttle: false });
  await fc.assert(
    fc.asyncProperty(fc.array(authBodyArb, { minLength: 1, maxLength: 4 }), async (bodies) => {
      const server = serverHandshake(auth, { peerKey: "fuzz" });
      server.start();
      for (const body of bodies) {
        const step: AuthStep = await server.receive(body);
        if (step.done !== undefined) return false;
        if (step.fail !== undefined) return server.state === "failed" && step.fail.message.startsWith("UNAUTHENTICATED: ");
      }
      return server.state === "challenged";
    }),
    fcParameters(runs),
  );
  t.log(`${runs} cases`);
  t.pass();
});

test("datagram headers: a defect, or a header whose length matches the datagram exactly", (t) => {
  const runs = fuzzRuns();
  const header: FrameHeader = { kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0, length: 0 };
  const datagramArb = fc.oneof(
    fc.uint8Array({ maxLength: 100 }),
    fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 255 }), fc.nat({ max: 80 }), fc.uint8Array({ maxLength: 80 })).map(([kind, flags, length, rest]) => {
      const out = new Uint8Array(HEADER_BYTES + rest.length);
      out.set([0x4d, 0x53, 1, kind, 0, flags, 0, 0]);
      new DataView(out.buffer).setUint32(20, length);
      out.set(rest, HEADER_BYTES);
      return out;
    }),
  );
  fc.assert(
    fc.property(datagramArb, (datagram) => {
      const defect = decodeDatagramHeader(datagram, header);
      if (defect !== undefined) return ["short", "magic", "version", "kind", "length"].includes(defect);
      const trailer = (header.flags & FrameFlags.TAGGED) !== 0 ? TRAILER_BYTES : 0;
      return datagram.length === HEADER_BYTES + header.length + trailer && header.kind >= 1 && header.kind <= 8;
    }),
    fcParameters(runs),
  );
  t.log(`${runs} cases`);
  t.pass();
});
