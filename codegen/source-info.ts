import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import type { SourceLocation } from "./codegen-error.js";

/**
 * Paths into a FileDescriptorProto, as SourceCodeInfo numbers them (descriptor.proto field
 * numbers): a service is [6, i], its rpc j is [6, i, 2, j].
 */
export const servicePath = (serviceIndex: number): number[] => [6, serviceIndex];
export const methodPath = (serviceIndex: number, methodIndex: number): number[] => [6, serviceIndex, 2, methodIndex];

/**
 * Reads locations and comments of one file's elements from its source info (protoc was run
 * with --include_source_info). Elements without source info get line 1, column 1 and no comment.
 */
export class SourceInfo {
  constructor(
    private readonly file: FileDescriptorProto,
    /** The path to print for this file. */
    private readonly displayPath: string,
  ) {}

  /** Where the element starts, 1-based. */
  locate(path: readonly number[]): SourceLocation {
    const span = this.find(path)?.span;
    return {
      file: this.displayPath,
      line: span === undefined ? 1 : (span[0] ?? 0) + 1,
      column: span === undefined ? 1 : (span[1] ?? 0) + 1,
    };
  }

  /**
   * The element's leading comment as lines ready for a JSDoc block: the one space after `//`
   * removed, trailing spaces and surrounding blank lines dropped, and each star-slash written as
   * `*\/` so the comment cannot close the JSDoc early. Empty when there is no comment.
   */
  comment(path: readonly number[]): string[] {
    const text = this.find(path)?.leadingComments ?? "";
    const lines = text.split("\n").map((line) => (line.startsWith(" ") ? line.slice(1) : line).trimEnd().replaceAll("*/", "*\\/"));
    while (lines.length > 0 && lines[0] === "") lines.shift();
    while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    return lines;
  }

  private find(path: readonly number[]) {
    return this.file.sourceCodeInfo?.location.find(
      (location) => location.path.length === path.length && location.path.every((value, index) => value === path[index]),
    );
  }
}
