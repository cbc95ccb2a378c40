// Topic names and patterns (runtime/events/topic.ts).
import test from "ava";
import { checkPattern, checkTopic, topicMatcher } from "../../runtime/events/topic.js";

test("'*' matches exactly one segment, '>' one or more at the end, a plain topic only itself", (t) => {
  const cases: [string, string, boolean][] = [
    ["flight.status", "flight.status", true],
    ["flight.status", "flight.statuses", false],
    ["flight.*", "flight.status", true],
    ["flight.*", "flight", false],
    ["flight.*", "flight.a.b", false],
    ["*.status", "hotel.status", true],
    ["*.*", "a.b", true],
    ["*", "a", true],
    ["*", "a.b", false],
    ["flight.>", "flight.a", true],
    ["flight.>", "flight.a.b.c", true],
    ["flight.>", "flight", false],
    [">", "anything.at.all", true],
    ["a.*.>", "a.b.c", true],
    ["a.*.>", "a.b", false],
  ];
  for (const [pattern, topic, expected] of cases) t.is(topicMatcher(pattern)(topic), expected, `${pattern} vs ${topic}`);
});

test("malformed topics and patterns are refused with the reason", (t) => {
  t.throws(() => checkTopic("", "here"), { message: /here: expected a topic such as "flight.status", got an empty string/ });
  t.throws(() => checkTopic("a.*", "here"), { message: /contains the wildcard "\*": publish to a topic/ });
  t.throws(() => checkTopic(".a", "here"), { message: /has an empty segment/ });
  t.throws(() => checkTopic("a.", "here"), { message: /has an empty segment/ });
  t.throws(() => checkTopic("a/b", "here"), { message: /segment "a\/b" may hold only letters, digits, "_" and "-"/ });
  t.throws(() => checkTopic("x".repeat(256), "here"), { message: /is 256 characters long; at most 255/ });
  t.throws(() => checkPattern("a.>.b", "here"), { message: /">" may only be the last segment/ });
  t.throws(() => checkPattern("a*", "here"), { message: /segment "a\*" may hold only/ });
  t.notThrows(() => checkTopic("msf.service.online", "here"));
  t.notThrows(() => checkPattern("msf.>", "here"));
  t.notThrows(() => checkTopic("Flight_2-b.x", "here"));
});
