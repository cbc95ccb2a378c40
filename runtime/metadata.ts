/**
 * Call metadata: string keys (lower-case ASCII) to string values, sent with a request when
 * given and exposed to the handler. Kept as a plain Map so the common case (none) costs nothing.
 */
export type Metadata = ReadonlyMap<string, string>;

export const EMPTY_METADATA: Metadata = new Map();
