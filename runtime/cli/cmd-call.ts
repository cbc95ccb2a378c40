import { rawCodec } from "../codec/raw.js";
import { rawMethod } from "../raw-method.js";
import type { MethodRef } from "./method-ref.js";
import { withDaemon, type CommandContext } from "./command-context.js";
import { resolveMethod } from "./method-resolve.js";
import type { PayloadSource } from "./payload.js";
import { replyText, requestBody } from "./request-body.js";

/** The json codec's wire id: the request and reply travel as UTF-8 JSON, decoded by the instance. */
export const JSON_CODEC_ID = 1;

/**
 * `msf call <service>.<method> '<json>'`: resolves the method through the control API, sends the
 * JSON as a raw call to msfd's broker, prints the reply (pretty; one line with --json). Works
 * for any method without descriptors here: the instance decodes the JSON with its generated code.
 */
export async function runCall(
  context: CommandContext,
  ref: MethodRef,
  request: PayloadSource,
  metadata: Readonly<Record<string, string>>,
): Promise<void> {
  const body = await requestBody(request);
  const reply = await withDaemon(context, async (session) => {
    const method = await resolveMethod(session, ref);
    const channel = await session.brokerChannel(rawCodec(JSON_CODEC_ID));
    return channel.unary(rawMethod(method.fullName, method.idempotent), body, { metadata: { ...metadata }, timeoutMs: session.timeoutMs });
  });
  context.out(replyText(reply, !context.flags.json));
}
