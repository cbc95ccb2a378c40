import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";

/**
 * Topic names and patterns (idl/msf/events.proto): dot-separated segments of letters, digits,
 * '_' and '-', at most 255 bytes. In a pattern, a segment '*' matches exactly one segment, and
 * a last segment '>' matches one or more.
 */

/** A topic's longest length, in characters (all allowed characters are one byte). */
export const MAX_TOPIC_LENGTH = 255;

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** Throws RpcError INVALID_ARGUMENT, naming `where`, unless `topic` is a topic (no wildcard). */
export function checkTopic(topic: string, where: string): void {
  const problem = topicProblem(topic, false);
  if (problem !== undefined) throw new RpcError(Code.INVALID_ARGUMENT, `${where}: ${problem}`);
}

/** Throws RpcError INVALID_ARGUMENT, naming `where`, unless `pattern` is a topic or a pattern. */
export function checkPattern(pattern: string, where: string): void {
  const problem = topicProblem(pattern, true);
  if (problem !== undefined) throw new RpcError(Code.INVALID_ARGUMENT, `${where}: ${problem}`);
}

function topicProblem(topic: string, pattern: boolean): string | undefined {
  const shown = JSON.stringify(topic.length > 80 ? `${topic.slice(0, 80)}...` : topic);
  if (topic.length === 0) return `expected a ${pattern ? "topic or pattern" : "topic"} such as "flight.status", got an empty string`;
  if (topic.length > MAX_TOPIC_LENGTH) return `topic ${shown} is ${topic.length} characters long; at most ${MAX_TOPIC_LENGTH} are allowed`;
  const segments = topic.split(".");
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index]!;
    if (segment === "*" || segment === ">") {
      if (!pattern) return `topic ${shown} contains the wildcard "${segment}": publish to a topic, wildcards are for subscriptions`;
      if (segment === ">" && index !== segments.length - 1) return `pattern ${shown}: ">" may only be the last segment`;
      continue;
    }
    if (!SEGMENT.test(segment)) {
      return segment === ""
        ? `topic ${shown} has an empty segment (segments are separated by single dots, none at either end)`
        : `topic ${shown}: segment ${JSON.stringify(segment)} may hold only letters, digits, "_" and "-"`;
    }
  }
  return undefined;
}

/** True when `pattern` contains a wildcard segment. */
export function isPattern(pattern: string): boolean {
  return pattern === "*" || pattern === ">" || pattern.includes("*") || pattern.includes(">");
}

/** A matcher for a checked pattern: a plain topic matches only itself. */
export function topicMatcher(pattern: string): (topic: string) => boolean {
  if (!isPattern(pattern)) return (topic) => topic === pattern;
  const parts = pattern.split(".");
  const rest = parts[parts.length - 1] === ">";
  const fixed = rest ? parts.length - 1 : parts.length;
  return (topic) => {
    const segments = topic.split(".");
    if (rest ? segments.length <= fixed : segments.length !== fixed) return false;
    for (let index = 0; index < fixed; index++) {
      const part = parts[index]!;
      if (part !== "*" && part !== segments[index]) return false;
    }
    return true;
  };
}
