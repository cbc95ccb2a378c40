import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { type FileDescriptorProto, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { CodegenError } from "./codegen-error.js";

/** What to compile: the .proto files named on the command line and the -I folders. */
export interface LoadOptions {
  /** The .proto files to generate code for: paths relative to `cwd` (or absolute), else relative to a -I folder. */
  readonly files: readonly string[];
  /** Extra include folders (-I), searched first, in order. */
  readonly includeDirs: readonly string[];
  /** The folder relative paths are resolved against; process.cwd() by default. */
  readonly cwd?: string;
}

/** The parsed descriptors of the input files and of everything they import. */
export interface LoadedProtos {
  /** Every file, dependencies before the files that import them (protoc's order). */
  readonly files: readonly FileDescriptorProto[];
  /**
   * The descriptor names of the input files, in the order given: each path relative to the
   * include folder it was found under, as protoc names it ("flight.proto" for idl/flight.proto
   * when idl/ is the include root). Output paths mirror these names.
   */
  readonly filesToGenerate: readonly string[];
  /** The path to show the user for a descriptor name: the file protoc read, relative to cwd. */
  displayPath(descriptorName: string): string;
  /** What protoc printed on stderr while succeeding (warnings such as unused imports). */
  readonly warnings: string;
}

/** The protoc binary shipped by the npm `protoc` package, and its well-known-types include folder. */
export interface ProtocInstall {
  readonly executable: string;
  readonly includeDir: string;
}

/**
 * Runs the npm-shipped protoc over the input files and parses the FileDescriptorSet it writes
 * (with imports and source info, so comments and locations are known).
 * Include path, in protoc's search order: each -I folder, then the folder of each input file,
 * then protoc's well-known types. Every path is handed to protoc relative to `cwd`, because
 * protoc matches input files against include folders by textual prefix only.
 * Throws CodegenError: a missing input or include folder, or protoc's own diagnostics verbatim
 * (they already read `file:line:column: message`).
 */
export function loadProtos(options: LoadOptions): LoadedProtos {
  const cwd = options.cwd ?? process.cwd();
  const protoc = findProtoc();
  const toArg = (path: string): string => relative(cwd, resolve(cwd, path)) || ".";

  for (const dir of options.includeDirs) {
    if (!isDirectory(resolve(cwd, dir))) throw new CodegenError(`msf-gen: include folder ${dir} (-I) does not exist`);
  }
  if (options.files.length === 0) throw new CodegenError("msf-gen: no .proto file given");
  // Like protoc, an input that is not a file relative to cwd may name one under a -I folder.
  const inputs = options.files.map((file) => {
    const candidates = [file, ...(isAbsolute(file) ? [] : options.includeDirs.map((dir) => join(dir, file)))];
    const found = candidates.find((candidate) => isFile(resolve(cwd, candidate)));
    if (found === undefined) {
      const searched = candidates.length > 1 ? ` (also looked under ${options.includeDirs.join(", ")})` : "";
      throw new CodegenError(`msf-gen: cannot read ${file}: no such file${searched}`);
    }
    return toArg(found);
  });
  const includeDirs = unique([
    ...options.includeDirs.map(toArg),
    ...inputs.map((file) => toArg(dirname(resolve(cwd, file)))),
    toArg(protoc.includeDir),
  ]);

  const workDir = mkdtempSync(join(tmpdir(), "msf-gen-"));
  try {
    const setPath = join(workDir, "descriptors.binpb");
    const result = spawnSync(
      protoc.executable,
      [
        ...includeDirs.map((dir) => `--proto_path=${dir}`),
        `--descriptor_set_out=${setPath}`,
        "--include_imports",
        "--include_source_info",
        ...inputs,
      ],
      { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
    );
    if (result.error !== undefined) {
      throw new CodegenError(`msf-gen: cannot run protoc (${protoc.executable}): ${result.error.message}`);
    }
    if (result.status !== 0) {
      const diagnostics = result.stderr.trimEnd();
      throw new CodegenError(diagnostics === "" ? `msf-gen: protoc failed with status ${String(result.status)}` : diagnostics);
    }
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(setPath));
    const filesToGenerate = unique(inputs.map((input) => descriptorName(input, includeDirs)));
    for (const name of filesToGenerate) {
      if (!set.file.some((file) => file.name === name)) {
        throw new Error(`msf-gen: protoc's output lacks ${name}; include path ${includeDirs.join(" ")}`);
      }
    }
    return {
      files: set.file,
      filesToGenerate,
      displayPath: (name) => displayPath(name, includeDirs, cwd),
      warnings: result.stderr,
    };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/**
 * Locates protoc the way the `protoc` package's own launcher (protoc.cjs) does: assets.json
 * lists one executable per platform and architecture under bin/; include/ holds the
 * well-known types. A system protoc is never used, so every machine compiles alike.
 */
export function findProtoc(): ProtocInstall {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve("protoc/package.json"));
  const assets = JSON.parse(readFileSync(join(root, "assets.json"), "utf8")) as Array<{
    platform: string;
    arch: string;
    executable: string;
  }>;
  const asset = assets.find((candidate) => candidate.platform === process.platform && candidate.arch === process.arch);
  if (asset === undefined) {
    throw new CodegenError(
      `msf-gen: the protoc package has no executable for ${process.platform}/${process.arch}; supported: ${assets
        .map((candidate) => `${candidate.platform}/${candidate.arch}`)
        .join(", ")}`,
    );
  }
  return { executable: join(root, "bin", asset.executable), includeDir: join(root, "include") };
}

/** protoc names an input file after the first include folder that is a textual prefix of it. */
function descriptorName(input: string, includeDirs: readonly string[]): string {
  for (const dir of includeDirs) {
    if (dir === ".") {
      if (!input.startsWith(`..${sep}`) && !isAbsolute(input)) return toPosix(input);
      continue;
    }
    const prefix = dir.endsWith(sep) ? dir : dir + sep;
    if (input.startsWith(prefix)) return toPosix(input.slice(prefix.length));
  }
  throw new Error(`msf-gen: ${input} is in no include folder (${includeDirs.join(" ")})`);
}

function displayPath(name: string, includeDirs: readonly string[], cwd: string): string {
  for (const dir of includeDirs) {
    const candidate = dir === "." ? name : join(dir, name);
    if (existsSync(resolve(cwd, candidate))) return candidate;
  }
  return name;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function toPosix(path: string): string {
  return sep === "/" ? path : path.split(sep).join("/");
}
