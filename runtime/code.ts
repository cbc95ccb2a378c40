/**
 * Status codes carried in the `status` field of every reply frame.
 * The numbering is gRPC's, so operators and tools that know gRPC read them as they expect.
 * 0 (OK) never appears in an RpcError.
 */
export enum Code {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

const codeNames: readonly string[] = Object.keys(Code).filter((key) => Number.isNaN(Number(key)));

/** The code's name ("DEADLINE_EXCEEDED"), or "CODE_<n>" for a number outside the table. */
export function codeName(code: number): string {
  return (Code as unknown as Record<number, string>)[code] ?? `CODE_${code}`;
}

/** True for a number that names a known code. */
export function isCode(value: number): value is Code {
  return Number.isInteger(value) && value >= 0 && value < codeNames.length;
}
