import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { STDIN_TOKEN } from "./cli-argv.js";
import { CliError, ExitCode, UsageError } from "./cli-errors.js";

/**
 * Where the bytes of `msf events pub` (and a `msf call` request given as @file) come from: the
 * argument itself, a file (`@path`), or standard input (`-`: one event per line).
 */
export type PayloadSource =
  | { readonly from: "text"; readonly text: string }
  | { readonly from: "file"; readonly path: string }
  | { readonly from: "stdin" };

export function parsePayloadSource(argument: string): PayloadSource {
  if (argument === "-" || argument === STDIN_TOKEN) return { from: "stdin" };
  if (argument.startsWith("@")) {
    if (argument.length === 1) throw new UsageError(`"@": expected @<file>`);
    return { from: "file", path: argument.slice(1) };
  }
  return { from: "text", text: argument };
}

/** A file's whole content; unreadable is the operation failing (exit 1), naming the file. */
export async function readPayloadFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new CliError(ExitCode.FAILED, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

/** Standard input, one UTF-8 line at a time (without its line ending), as it arrives. */
export async function* stdinLines(input: NodeJS.ReadableStream = process.stdin): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  for await (const line of createInterface({ input, crlfDelay: Infinity })) yield encoder.encode(line);
}

/**
 * How an event's payload is shown: as text when it is valid UTF-8 without control characters
 * (tab allowed) — so JSON and plain messages read as themselves — and otherwise as base64,
 * prefixed "base64:" so the two cannot be confused.
 */
export function showPayload(payload: Uint8Array): string {
  const text = printableText(payload);
  return text !== undefined ? text : `base64:${Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("base64")}`;
}

/** The payload as text when it is printable UTF-8; undefined otherwise. */
export function printableText(payload: Uint8Array): string | undefined {
  let text: string;
  try {
    text = strictDecoder.decode(payload);
  } catch {
    return undefined;
  }
  return /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/.test(text) ? undefined : text;
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true });
