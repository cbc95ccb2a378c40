/**
 * The body of a RESPONSE frame whose status is not 0: the error message, UTF-8, without the
 * "[CODE]" prefix (the status field carries the code). Invalid UTF-8 is replaced, not rejected:
 * an error must always reach the caller.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

export function encodeErrorBody(message: string): Uint8Array {
  return encoder.encode(message);
}

export function decodeErrorBody(body: Uint8Array): string {
  return decoder.decode(body);
}
