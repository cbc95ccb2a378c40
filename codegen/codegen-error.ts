/** A place in a .proto file, 1-based as editors and protoc show it. */
export interface SourceLocation {
  /** The file as the user can open it (relative to the working directory when inside it). */
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/**
 * An error in msf-gen's input: a bad .proto, a missing file, a name clash. The CLI prints
 * `message` as is on stderr and exits 1. With a location, the message starts with
 * `file:line:column: `, the form protoc and editors use, so a terminal can jump to it.
 */
export class CodegenError extends Error {
  override readonly name = "CodegenError";
  readonly location: SourceLocation | undefined;

  constructor(message: string, location?: SourceLocation) {
    super(location === undefined ? message : `${formatLocation(location)}: ${message}`);
    this.location = location;
  }
}

export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}
