// ${NAME} and ${NAME:-default} in every string of msf.json, from the environment given.
import test from "ava";
import { configDir, loadWith, plugin, problemsOf } from "./config-fixtures.js";

test("variables are replaced in every string value: paths, addresses, svc_conf at any depth, env values", async (t) => {
  const dir = configDir(t);
  plugin(dir, "plugins/flight.js");
  const config = await loadWith(
    dir,
    {
      proc_name: "${PROC}",
      proc_desc: "${USER_NAME}'s daemon on ${HOST:-localhost}",
      listen: ["tcp://${HOST:-127.0.0.1}:${PORT}"],
      proc_svcs: [
        {
          svc_name: "flight",
          svc_libs: "${PLUGINS}/flight.js",
          svc_conf: { deep: [{ text: "mode=${MODE}" }], number: 3 },
          env: { "${NOT_A_KEY}": "${MODE}" },
        },
      ],
    },
    { PROC: "flight_proc", USER_NAME: "ops", PORT: "7100", PLUGINS: "plugins", MODE: "fast" },
  );
  t.is(config.proc.name, "flight_proc");
  t.is(config.proc.desc, "ops's daemon on localhost");
  t.deepEqual(config.listen, ["tcp://127.0.0.1:7100"]);
  t.is(config.services[0]!.module, `${dir}/plugins/flight.js`);
  t.deepEqual(config.services[0]!.options, { deep: [{ text: "mode=fast" }], number: 3 });
  t.deepEqual(config.services[0]!.env, { "${NOT_A_KEY}": "fast" }, "keys are not interpolated");
});

test("defaults: used when unset or empty; an empty value without a default stays empty", async (t) => {
  const dir = configDir(t);
  plugin(dir, "svc.js");
  const config = await loadWith(
    dir,
    {
      proc_name: "p",
      proc_author: "${UNSET:-nobody}",
      proc_version: "${EMPTY:-0.0.0}",
      proc_desc: "[${EMPTY}]",
      proc_svcs: [{ svc_name: "svc", svc_libs: "svc.js", svc_conf: { set: "${SET:-other}", blank: "${UNSET:-}", colon: "${UNSET:-a:b-c}" } }],
    },
    { EMPTY: "", SET: "value" },
  );
  t.is(config.proc.author, "nobody");
  t.is(config.proc.version, "0.0.0");
  t.is(config.proc.desc, "[]");
  t.deepEqual(config.services[0]!.options, { set: "value", blank: "", colon: "a:b-c" });
});

test("$${ is a literal ${; any other $ is itself", async (t) => {
  const dir = configDir(t);
  plugin(dir, "svc.js");
  const config = await loadWith(dir, {
    proc_name: "p",
    proc_svcs: [{ svc_name: "svc", svc_libs: "svc.js", svc_conf: { a: "$${HOME}", b: "cost: $5, $HOME, $", c: "$$${X:-y}" } }],
  });
  t.deepEqual(config.services[0]!.options, { a: "${HOME}", b: "cost: $5, $HOME, $", c: "$${X:-y}" }, "read left to right: a lone $, then $${");
});

test("an unset variable without a default is an error naming it and the field; nothing else is reported for that field", async (t) => {
  const dir = configDir(t);
  const config = {
    proc_name: "p",
    listen: ["${LISTEN}"],
    proc_svcs: [{ svc_name: "svc", svc_libs: "${PLUGIN_DIR}/svc.js", svc_conf: { token: "${TOKEN}" }, instances: 0 }],
  };
  t.deepEqual(await problemsOf(t, dir, config), [
    "msf.json: listen[0]: environment variable LISTEN is not set and ${LISTEN} has no default (write ${LISTEN:-default} to give one)",
    "msf.json: proc_svcs[0].svc_libs: environment variable PLUGIN_DIR is not set and ${PLUGIN_DIR} has no default (write ${PLUGIN_DIR:-default} to give one)",
    "msf.json: proc_svcs[0].svc_conf.token: environment variable TOKEN is not set and ${TOKEN} has no default (write ${TOKEN:-default} to give one)",
    "msf.json: proc_svcs[0].instances: expected an integer from 1 to 256, got 0",
  ]);
});

test("malformed expressions are errors, never left in place", async (t) => {
  const dir = configDir(t);
  plugin(dir, "svc.js");
  const config = {
    proc_name: "p",
    proc_svcs: [{ svc_name: "svc", svc_libs: "svc.js", svc_conf: ["${1X}", "${X", "${X:-${Y}}", "${X-y}", "${}"] }],
  };
  const forms = "${NAME} or ${NAME:-default} with NAME made of letters, digits and _ (not first)";
  t.deepEqual(await problemsOf(t, dir, config, { X: "x", Y: "y" }), [
    `msf.json: proc_svcs[0].svc_conf[0]: expected ${forms}, got "\${1X}" (malformed; write $\${ for a literal \${)`,
    `msf.json: proc_svcs[0].svc_conf[1]: expected ${forms}, got "\${X" (no closing }; write $\${ for a literal \${)`,
    `msf.json: proc_svcs[0].svc_conf[2]: expected ${forms}, got "\${X:-\${Y}" (a default cannot hold another \${...}; write $\${ for a literal \${)`,
    `msf.json: proc_svcs[0].svc_conf[3]: expected ${forms}, got "\${X-y}" (malformed; write $\${ for a literal \${)`,
    `msf.json: proc_svcs[0].svc_conf[4]: expected ${forms}, got "\${}" (malformed; write $\${ for a literal \${)`,
  ]);
});

test("an integer field takes a string only when it is exactly one ${...} holding a decimal integer", async (t) => {
  const dir = configDir(t);
  plugin(dir, "svc.js");
  const service = (name: string, instances: string) => ({ svc_name: name, svc_libs: "svc.js", instances });
  const config = { proc_name: "p", proc_svcs: [service("a", "${N}"), service("b", "${N}0"), service("c", "${BAD}"), service("d", "${BIG}")] };
  t.deepEqual(await problemsOf(t, dir, config, { N: "2", BAD: "two", BIG: "1000" }), [
    'msf.json: proc_svcs[1].instances: expected an integer from 1 to 256, got "20"',
    'msf.json: proc_svcs[2].instances: expected an integer from 1 to 256, got "two"',
    'msf.json: proc_svcs[3].instances: expected an integer from 1 to 256, got "1000"',
  ]);
});
