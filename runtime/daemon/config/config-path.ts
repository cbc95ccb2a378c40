/**
 * Field paths as they appear in error messages: `proc_svcs[1].restart.window_ms`,
 * `proc_svcs[0].env["MY-VAR"]`. The root is the empty string. The JSON parser, interpolation and
 * validation build paths with the same function, so a path is also a key that links them (the
 * source text of a number, a string whose interpolation failed).
 */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (!IDENTIFIER.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === "" ? key : `${parent}.${key}`;
}

/** The path for a message: the root is shown as "(top level)". */
export function showPath(path: string): string {
  return path === "" ? "(top level)" : path;
}
