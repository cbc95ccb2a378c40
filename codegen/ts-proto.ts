import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, CodeGeneratorResponseSchema } from "@bufbuild/protobuf/wkt";
import { CodegenError } from "./codegen-error.js";
import type { LoadedProtos } from "./load-proto.js";

/**
 * ts-proto's options, all checked against ts-proto 2.18's `src/options.ts`. Generated messages
 * must satisfy the runtime's `MessageType<T>` (encode().finish(), decode, fromJSON, toJSON,
 * fromPartial), and their names must be what `model.ts` predicts.
 */
export const TS_PROTO_OPTIONS: readonly string[] = [
  // No `import * as Long`-style namespace imports; harmless with bigint, right if anything else sneaks in.
  "esModuleInterop=true",
  // 64-bit integers as bigint: exact, and no `long` dependency in users' projects.
  "forceLong=bigint",
  // Services come from msf's own templates, not ts-proto's.
  "outputServices=false",
  // NodeNext ESM needs explicit extensions in relative imports.
  "importSuffix=.js",
  "outputJsonMethods=true",
  "outputPartialMethods=true",
  // Scalars and enums always present (proto3 defaults); messages `T | undefined`.
  "useOptionals=none",
  // Node only: bytes are Buffers (a Uint8Array subclass), no browser shims.
  "env=node",
  // oneofs as `{ $case: "text"; value: string }`: one discriminant property, narrowable by switch.
  "oneof=unions-value",
  // google.protobuf.Timestamp fields become JS `Date`s: what Node APIs take and give, and the JSON
  // form stays proto3's RFC 3339 string. The price is precision: Date holds milliseconds, so
  // sub-millisecond nanos are dropped. (`useDate=timestamp` keeps nanos but leaves every handler
  // converting { seconds: bigint, nanos } by hand.)
  "useDate=date",
  // No protoc/ts-proto versions in the banner: generated files stay byte-identical across
  // tool upgrades that change nothing else, which golden tests rely on.
  "annotateFilesWithVersion=false",
];

/** One file ts-proto generated, named after its .proto ("flight.proto" → "flight.ts"). */
export interface GeneratedFile {
  readonly name: string;
  readonly content: string;
}

/**
 * Runs ts-proto's protoc plugin as a child process, with a CodeGeneratorRequest on stdin as
 * protoc would send it. The plugin protocol is ts-proto's stable interface; its modules are not.
 * Returns a file for each input and for each file they import (ts-proto's emitImportedFiles).
 */
export function runTsProto(protos: LoadedProtos): GeneratedFile[] {
  const request = create(CodeGeneratorRequestSchema, {
    fileToGenerate: [...protos.filesToGenerate],
    parameter: TS_PROTO_OPTIONS.join(","),
    protoFile: [...protos.files],
  });
  const plugin = tsProtoPlugin();
  const result = spawnSync(process.execPath, [plugin], {
    input: toBinary(CodeGeneratorRequestSchema, request),
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error !== undefined) throw new CodegenError(`msf-gen: cannot run ts-proto (${plugin}): ${result.error.message}`);
  if (result.status !== 0) {
    throw new CodegenError(`msf-gen: ts-proto failed (status ${String(result.status)}): ${result.stderr.toString("utf8").trim()}`);
  }
  const response = fromBinary(CodeGeneratorResponseSchema, result.stdout);
  if (response.error !== undefined && response.error !== "") throw new CodegenError(`msf-gen: ts-proto: ${response.error}`);
  return response.file.map((file) => ({ name: file.name, content: file.content }));
}

/** The script behind ts-proto's `protoc-gen-ts_proto` bin, found through its package.json. */
function tsProtoPlugin(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve("ts-proto/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin?: Record<string, string> };
  const bin = manifest.bin?.["protoc-gen-ts_proto"];
  if (bin === undefined) throw new Error("msf-gen: ts-proto's package.json declares no protoc-gen-ts_proto bin");
  return join(dirname(manifestPath), bin);
}
