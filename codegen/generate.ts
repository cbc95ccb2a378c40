import { join, resolve } from "node:path";
import { checkPlan, type PlannedFile } from "./emit.js";
import { loadProtos } from "./load-proto.js";
import { buildModel } from "./model.js";
import { moduleBase } from "./module-paths.js";
import { packageVersion } from "./package-root.js";
import { createRenderer } from "./render.js";
import { runTsProto } from "./ts-proto.js";

/** One msf-gen run, as the CLI's arguments describe it. */
export interface GenerateOptions {
  /** The .proto files to generate code for. */
  readonly files: readonly string[];
  /** -I folders, searched before each input's own folder. */
  readonly includeDirs: readonly string[];
  /** Where generated files go (-o). */
  readonly outDir: string;
  /** Where implementation scaffolds go (--impl), if wanted. */
  readonly implDir?: string | undefined;
  /** The module specifier generated code imports the runtime from (--runtime-import); "msf" by default. */
  readonly runtimeImport?: string | undefined;
  /** Relative paths are resolved against it; process.cwd() by default. */
  readonly cwd?: string;
}

/** Everything the run will write, and protoc's warnings to pass on. */
export interface GenerationPlan {
  readonly files: readonly PlannedFile[];
  readonly warnings: string;
}

/**
 * Computes every output file in memory: protoc → descriptors → ts-proto for messages, the
 * model + templates for services. Nothing is written here, so an error (CodegenError, with the
 * .proto location when there is one) leaves the output folders untouched.
 * Output layout mirrors the descriptor names: flight.proto → flight.ts, flight.server.ts,
 * flight.client.ts; imported files (well-known types included) get their message code too.
 */
export function planGeneration(options: GenerateOptions): GenerationPlan {
  const cwd = options.cwd ?? process.cwd();
  const outDir = resolve(cwd, options.outDir);
  const implDir = options.implDir === undefined ? undefined : resolve(cwd, options.implDir);
  const protos = loadProtos({ files: options.files, includeDirs: options.includeDirs, cwd });
  const model = buildModel(protos, { outDir, implDir, runtimeImport: options.runtimeImport });
  const render = createRenderer(packageVersion());

  const sources = new Map(protos.files.map((file) => [`${moduleBase(file.name)}.ts`, file.name]));
  const files: PlannedFile[] = [];
  for (const generated of runTsProto(protos)) {
    const source = sources.get(generated.name) ?? generated.name;
    files.push({ path: join(outDir, generated.name), content: render.header(source) + generated.content, keepExisting: false });
  }
  for (const serviceFile of model.serviceFiles) {
    files.push({ path: join(outDir, serviceFile.server.path), content: render.server(serviceFile.server), keepExisting: false });
    files.push({ path: join(outDir, serviceFile.client.path), content: render.client(serviceFile.client), keepExisting: false });
  }
  if (implDir !== undefined) {
    for (const implFile of model.implFiles) {
      files.push({ path: join(implDir, implFile.path), content: render.impl(implFile), keepExisting: true });
    }
  }
  checkPlan(files);
  return { files, warnings: protos.warnings };
}
