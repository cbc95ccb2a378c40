import { posix, sep } from "node:path";

// Where generated modules live and how they import each other. Every path here is
// "/"-separated and relative to the output folder unless it says otherwise.

/** ts-proto's module name for a .proto: the first ".proto" removed, as ts-proto's main.ts does. */
export function moduleBase(protoName: string): string {
  return protoName.replace(".proto", "");
}

/**
 * The import specifier of the .ts file `target` from the file `from`, both "/"-separated and
 * relative to the output folder (never above it): "../shop.js".
 */
export function relativeModule(from: string, target: string): string {
  return moduleSpecifier(posix.relative(posix.dirname(from), target));
}

/** A relative path to a .ts file (either separator) as an ESM import specifier: "./x.js", "../gen/x.js". */
export function moduleSpecifier(relativePath: string): string {
  const path = relativePath.split(sep).join("/").replace(/\.ts$/, ".js");
  return path.startsWith("../") ? path : `./${path}`;
}

