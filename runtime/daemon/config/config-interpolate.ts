import { childPath } from "./config-path.js";

/**
 * `${NAME}` and `${NAME:-default}` in every string value of a parsed config (keys are left as
 * they are), from the environment given, before validation.
 *
 * - `${NAME}`: the variable's value; an error when it is unset (an empty value is a value).
 * - `${NAME:-default}`: the default when NAME is unset or empty (as in sh and docker compose);
 *   the default is literal text up to the first "}" (no nesting).
 * - `$${` is a literal `${`; any other `$` is itself.
 * NAME is `[A-Za-z_][A-Za-z0-9_]*`. A malformed `${...}` is an error, never left in place.
 */
export interface Interpolation {
  /** The config with every string replaced (a copy; the input is not changed). */
  readonly value: unknown;
  readonly problems: readonly InterpolationProblem[];
  /** Paths of strings that could not be interpolated: validation should not report them again. */
  readonly failed: ReadonlySet<string>;
  /**
   * Paths of strings that were one `${...}` and nothing else. A numeric field may take such a
   * string (`"instances": "${INSTANCES:-2}"`) since JSON cannot put a variable in a number.
   */
  readonly whole: ReadonlySet<string>;
}

export interface InterpolationProblem {
  readonly path: string;
  readonly message: string;
}

export function interpolate(value: unknown, env: NodeJS.ProcessEnv): Interpolation {
  const state: State = { env, problems: [], failed: new Set(), whole: new Set() };
  const result = walk(value, "", state);
  return { value: result, problems: state.problems, failed: state.failed, whole: state.whole };
}

interface State {
  readonly env: NodeJS.ProcessEnv;
  readonly problems: InterpolationProblem[];
  readonly failed: Set<string>;
  readonly whole: Set<string>;
}

function walk(value: unknown, path: string, state: State): unknown {
  if (typeof value === "string") return value.includes("$") ? replace(value, path, state) : value;
  if (Array.isArray(value)) return value.map((element, index) => walk(element, childPath(path, index), state));
  if (typeof value === "object" && value !== null) {
    const copy: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      Object.defineProperty(copy, key, { value: walk(field, childPath(path, key), state), writable: true, enumerable: true, configurable: true });
    }
    return copy;
  }
  return value;
}

const EXPRESSION = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/y;
const FORMS = "${NAME} or ${NAME:-default} with NAME made of letters, digits and _ (not first)";

function replace(text: string, path: string, state: State): string {
  let result = "";
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf("$", i);
    if (dollar < 0) {
      result += text.slice(i);
      break;
    }
    result += text.slice(i, dollar);
    if (text.startsWith("$${", dollar)) {
      result += "${";
      i = dollar + 3;
      continue;
    }
    if (text[dollar + 1] !== "{") {
      result += "$";
      i = dollar + 1;
      continue;
    }
    EXPRESSION.lastIndex = dollar;
    const match = EXPRESSION.exec(text);
    const fallback = match?.[2];
    if (match === null || (fallback !== undefined && fallback.includes("${"))) {
      const close = text.indexOf("}", dollar);
      const shown = close < 0 ? text.slice(dollar) : text.slice(dollar, close + 1);
      const why = close < 0 ? "no closing }" : fallback?.includes("${") ? "a default cannot hold another ${...}" : "malformed";
      fail(state, path, `expected ${FORMS}, got ${JSON.stringify(shown)} (${why}; write $\${ for a literal \${)`);
      return text;
    }
    const name = match[1]!;
    const set = state.env[name];
    if (fallback !== undefined) {
      result += set === undefined || set === "" ? fallback : set;
    } else if (set === undefined) {
      fail(state, path, `environment variable ${name} is not set and \${${name}} has no default (write \${${name}:-default} to give one)`);
      return text;
    } else {
      result += set;
    }
    i = dollar + match[0].length;
    if (dollar === 0 && i === text.length) state.whole.add(path);
  }
  return result;
}

function fail(state: State, path: string, message: string): void {
  state.problems.push({ path, message });
  state.failed.add(path);
}
