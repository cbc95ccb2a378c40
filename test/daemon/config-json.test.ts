// JSON syntax errors are reported as file:line:column with what was found and what was expected.
import test from "ava";
import { ConfigError, parseConfig } from "../../runtime/daemon/config/index.js";
import { configDir, env, plugin, problemsOf } from "./config-fixtures.js";

/** The one problem `text` is refused with (syntax errors stop before any file is looked at). */
function syntaxError(text: string): string | undefined {
  try {
    parseConfig(text, "msf.json", {});
  } catch (error) {
    if (error instanceof ConfigError && error.problems.length === 1) return error.problems[0];
    throw error;
  }
  return undefined;
}

test("syntax errors point at line and column", (t) => {
  const cases: [string, string][] = [
    ['{\n  "proc_name": "p",\n  "x": }', 'msf.json:3:8: unexpected "}", expected a value'],
    ['{ "a": 1, }', 'msf.json:1:11: unexpected "}" after ",": JSON allows no trailing comma'],
    ['{ "a": [1, 2, ] }', 'msf.json:1:15: unexpected "]" after ",": JSON allows no trailing comma'],
    ['{\n  // the name\n  "proc_name": "p" }', "msf.json:2:3: comments are not allowed in JSON"],
    ['{ "a": 1 /* x */ }', "msf.json:1:10: comments are not allowed in JSON"],
    ["{ 'a': 1 }", `msf.json:1:3: unexpected "'", expected a field name in double quotes`],
    ['{ "a": yes }', 'msf.json:1:8: unexpected word "yes", expected a value (strings are written in double quotes)'],
    ['{ "a": "abc }', "msf.json:1:8: unterminated string (no closing double quote)"],
    ['{ "a": "ab\nc" }', "msf.json:1:8: unterminated string (a line ends before its closing double quote)"],
    ['{ "a": "a\tb" }', "msf.json:1:10: control character U+0009 in a string, expected it escaped"],
    ['{ "a": "\\x41" }', 'msf.json:1:9: invalid escape "\\x", expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX'],
    ['{ "a": "\\u12G4" }', "msf.json:1:9: invalid escape, expected \\u and 4 hex digits"],
    ['{ "a": 01 }', 'msf.json:1:8: invalid number "01", expected a JSON number such as 42, -1.5 or 2e3'],
    ['{ "a": 1. }', 'msf.json:1:8: invalid number "1.", expected a JSON number such as 42, -1.5 or 2e3'],
    ['{ "a": - }', 'msf.json:1:8: invalid number "-", expected a JSON number such as 42, -1.5 or 2e3'],
    ['{ "a": +1 }', 'msf.json:1:8: unexpected "+", expected a value'],
    ['{ "a" 1 }', 'msf.json:1:7: unexpected "1", expected ":" after the field name "a"'],
    ['{ "a": 1 "b": 2 }', 'msf.json:1:10: unexpected "\\"", expected "}" or "," after a field\'s value'],
    ['{ "a": [1 2] }', 'msf.json:1:11: unexpected "2", expected "]" or "," after an array element'],
    ['{ "a": 1', 'msf.json:1:9: unexpected end of the file, expected "}" or "," after a field\'s value'],
    ["", "msf.json:1:1: the file is empty, expected a JSON object"],
    [" \n\t ", "msf.json:2:3: the file is empty, expected a JSON object"],
    ["{} x", 'msf.json:1:4: unexpected "x" after the end of the JSON value'],
    ['{\r\n\t"a": \u0001 }', "msf.json:2:7: unexpected character U+0001, expected a value"],
    [`${"[".repeat(300)}${"]".repeat(300)}`, "msf.json:1:258: nesting deeper than 256 levels"],
  ];
  for (const [text, expected] of cases) t.is(syntaxError(text), expected, JSON.stringify(text));
});

test("a key repeated in an object is a problem listed with the others, with both positions", async (t) => {
  const dir = configDir(t);
  plugin(dir, "svc.js");
  const text = '{\n  "proc_name": "p",\n  "proc_svcs": [{ "svc_name": "a", "svc_libs": "svc.js", "instances": 0 }],\n  "proc_name": "q"\n}';
  t.deepEqual(await problemsOf(t, dir, text), [
    'msf.json:4:3: field "proc_name" appears twice in this object (first at 2:3)',
    "msf.json: proc_svcs[0].instances: expected an integer from 1 to 256, got 0",
  ]);
});

test("strings decode every JSON escape; __proto__ is an ordinary key of svc_conf", (t) => {
  const dir = configDir(t);
  plugin(dir, "svc.js");
  const text = String.raw`{ "proc_name": "p", "proc_svcs": [{ "svc_name": "svc", "svc_libs": "svc.js",
    "svc_conf": { "s": "q\"b\\s\/\b\f\n\r\t\u00e9\ud83d\ude00", "__proto__": { "polluted": true }, "n": [-0.5e1, 0, 1E2, true, false, null] } }] }`;
  const config = parseConfig(text, `${dir}/msf.json`, env());
  const options = config.services[0]!.options as Record<string, unknown>;
  t.is(options["s"], 'q"b\\s/\b\f\n\r\té😀');
  t.deepEqual(options["n"], [-5, 0, 100, true, false, null]);
  t.true(Object.hasOwn(options, "__proto__"));
  t.is(Object.getPrototypeOf(options), Object.prototype);
  t.is(({} as Record<string, unknown>)["polluted"], undefined);
});
