import { Code } from "../code.js";
import { createPublisher } from "../events/publisher.js";
import { subscribe, type ReceivedEvent } from "../events/subscriber.js";
import { RpcError } from "../rpc-error.js";
import { UsageError } from "./cli-errors.js";
import { jsonText, withDaemon, type CommandContext } from "./command-context.js";
import { printableText, readPayloadFile, showPayload, stdinLines, type PayloadSource } from "./payload.js";

/** With `-` (stdin), wait for msfd to take what was sent every this many lines: memory stays bounded. */
const STDIN_WINDOW = 1024;

/**
 * `msf events pub <topic> <payload>`: publishes one event (the text, or a file's bytes with
 * @file) or, with `-`, one event per line of stdin, in order; returns once msfd took them all.
 */
export async function runPublish(context: CommandContext, topic: string, source: PayloadSource, key: string | undefined): Promise<void> {
  const payload = source.from === "file" ? await readPayloadFile(source.path) : undefined;
  const published = await withDaemon(context, async (session) => {
    const channel = await session.brokerChannel("protobuf");
    const publisher = createPublisher(channel, { timeoutMs: session.timeoutMs });
    let count = 0;
    const publish = (bytes: Uint8Array): void => {
      usageOnInvalid(() => void publisher.publish(topic, bytes, key));
      count++;
    };
    if (source.from === "stdin") {
      for await (const line of stdinLines()) {
        publish(line);
        if (count % STDIN_WINDOW === 0) await publisher.flush();
      }
    } else {
      publish(payload ?? new TextEncoder().encode(source.from === "text" ? source.text : ""));
    }
    await publisher.close();
    return count;
  });
  context.out(context.flags.json ? jsonText({ topic, published }, false) : `published ${published} event${published === 1 ? "" : "s"} to ${topic}\n`);
}

/**
 * `msf events sub <topic> [--group g] [--count N]`: one line per event — `<topic> <payload>`,
 * the payload as text when it is printable UTF-8, else `base64:<...>`; with --json one object per
 * line, `{"topic","key","payload"}` or `{"topic","key","payloadBase64"}`. Runs until N events
 * were printed, or until SIGINT/SIGTERM (then unsubscribes and exits 0). "subscribed to ..." goes
 * to stderr once msfd registered the subscription: events published from then on are received.
 */
export async function runSubscribe(context: CommandContext, topic: string, group: string, count: number | undefined): Promise<void> {
  await withDaemon(context, async (session) => {
    const channel = await session.brokerChannel("protobuf");
    let printed = 0;
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const subscription = usageOnInvalid(() =>
      subscribe(channel, topic, group === "" ? {} : { group }, (event) => {
        if (count !== undefined && printed >= count) return;
        context.out(context.flags.json ? jsonText(eventJson(event), false) : `${event.topic} ${showPayload(event.payload)}\n`);
        printed++;
        if (count !== undefined && printed >= count) stop();
      }),
    );
    const onSignal = (): void => stop();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      await Promise.race([subscription.ready, subscription.done]);
      process.stderr.write(`subscribed to ${topic}${group === "" ? "" : ` (group ${group})`}\n`);
      await Promise.race([stopped, subscription.done]);
    } finally {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
      await subscription.close();
    }
  });
}

export function eventJson(event: ReceivedEvent): Record<string, string> {
  const text = printableText(event.payload);
  const payload = text !== undefined ? { payload: text } : { payloadBase64: Buffer.from(event.payload).toString("base64") };
  return { topic: event.topic, key: event.key, ...payload };
}

/** A malformed topic or group is the operator's typo: usage error (exit 2), not a failed call. */
function usageOnInvalid<T>(body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (error instanceof RpcError && error.code === Code.INVALID_ARGUMENT) throw new UsageError(error.rawMessage);
    throw error;
  }
}
