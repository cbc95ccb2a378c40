import { readFileSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import type { ClientFileModel, ImplFileModel, ServerFileModel } from "./model.js";
import { packageRoot } from "./package-root.js";

/** Turns model parts into file contents. Pure: the same model gives the same text. */
export interface Renderer {
  server(model: ServerFileModel): string;
  client(model: ClientFileModel): string;
  impl(model: ImplFileModel): string;
  /** The header line(s) of a generated file, for files whose body comes from elsewhere (ts-proto). */
  header(source: string): string;
}

/**
 * Compiles the templates in `templatesDir` (the package's templates/ by default). Compiled with
 * `noEscape` (generated TypeScript is not HTML) and `strict` (a field the model lacks is an
 * error, never an empty string in the output).
 */
export function createRenderer(version: string, templatesDir: string = join(packageRoot(), "templates")): Renderer {
  const handlebars = Handlebars.create();
  const read = (name: string): string => readFileSync(join(templatesDir, name), "utf8");
  const compile = (name: string) => handlebars.compile(read(name), { noEscape: true, strict: true });
  handlebars.registerPartial("header", read("partials/header.hbs"));
  handlebars.registerPartial("imports", read("partials/imports.hbs"));
  const server = compile("server.ts.hbs");
  const client = compile("client.ts.hbs");
  const impl = compile("impl.ts.hbs");
  const header = compile("partials/header.hbs");
  return {
    server: (model) => server({ ...model, version }),
    client: (model) => client({ ...model, version }),
    impl: (model) => impl({ ...model, version }),
    header: (source) => header({ source, version, editable: false }),
  };
}
