import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { CodegenError } from "./codegen-error.js";

/** A file msf-gen wants on disk, fully rendered. */
export interface PlannedFile {
  /** Absolute path. */
  readonly path: string;
  readonly content: string;
  /** User-owned (an implementation scaffold): written only when no file exists there yet. */
  readonly keepExisting: boolean;
}

/** What writeFiles() did with each planned file. */
export interface EmitReport {
  readonly written: readonly string[];
  /** Generated files whose content on disk was already the same: left untouched (mtime too). */
  readonly unchanged: readonly string[];
  /** User-owned files that existed and were kept. */
  readonly kept: readonly string[];
}

/**
 * Checks the plan before anything is written: no two files at one path, and no planned path
 * that exists as something other than a regular file. Throws CodegenError.
 */
export function checkPlan(files: readonly PlannedFile[]): void {
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) throw new CodegenError(`msf-gen: two generated files would be written to ${file.path}`);
    seen.add(file.path);
    if (existsSync(file.path) && !statSync(file.path).isFile()) {
      throw new CodegenError(`msf-gen: cannot write ${file.path}: it exists and is not a regular file`);
    }
  }
}

/**
 * Writes the planned files. Each write is atomic (a temporary file in the same folder, then a
 * rename), so a reader never sees half a file; a file whose content is unchanged is not
 * touched, so watchers and incremental builds see no change. A failing write (permissions, a
 * full disk) throws CodegenError; files written before it stay written.
 */
export function writeFiles(files: readonly PlannedFile[]): EmitReport {
  const written: string[] = [];
  const unchanged: string[] = [];
  const kept: string[] = [];
  for (const file of files) {
    if (existsSync(file.path)) {
      if (file.keepExisting) {
        kept.push(file.path);
        continue;
      }
      if (readFileSync(file.path, "utf8") === file.content) {
        unchanged.push(file.path);
        continue;
      }
    }
    const temporary = `${file.path}.${process.pid}.msf-gen.tmp`;
    try {
      mkdirSync(dirname(file.path), { recursive: true });
      writeFileSync(temporary, file.content);
      renameSync(temporary, file.path);
    } catch (error) {
      rmSync(temporary, { force: true });
      const reason = error instanceof Error ? error.message : String(error);
      throw new CodegenError(`msf-gen: cannot write ${file.path}: ${reason}`);
    }
    written.push(file.path);
  }
  return { written, unchanged, kept };
}
