import { text as readAll } from "node:stream/consumers";
import { UsageError } from "./cli-errors.js";
import { readPayloadFile, type PayloadSource } from "./payload.js";

/**
 * A call's request: JSON text from the argument, a file (@file) or stdin (-), checked to be a
 * JSON object before anything is sent (a malformed one is a usage error, exit 2), and returned as
 * the UTF-8 bytes the json codec carries. The instance decodes them with its generated code.
 */
export async function requestBody(source: PayloadSource): Promise<Uint8Array> {
  const [text, where] =
    source.from === "text"
      ? [source.text, "request"]
      : source.from === "file"
        ? [new TextDecoder().decode(await readPayloadFile(source.path)), `request file ${source.path}`]
        : [await readAll(process.stdin), "request on stdin"];
  return new TextEncoder().encode(JSON.stringify(parseJsonObject(text, where)));
}

export function parseJsonObject(text: string, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${where} is not valid JSON (${(error as Error).message}): ${JSON.stringify(clip(text))}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`${where}: expected a JSON object like {"name":"bison"}, got ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`);
  }
  return value as Record<string, unknown>;
}

/** A reply's bytes as JSON text: pretty for people, one line for --json; raw text if not JSON. */
export function replyText(bytes: Uint8Array, pretty: boolean): string {
  const text = new TextDecoder().decode(bytes);
  try {
    return `${JSON.stringify(JSON.parse(text), undefined, pretty ? 2 : undefined)}\n`;
  } catch {
    return text.endsWith("\n") ? text : `${text}\n`;
  }
}

function clip(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 79)}…`;
}
