import test from "ava";
import { Code, RpcError, createChannel, createServer } from "msf";
import { resolveAddress } from "msf/internal";

test("unix addresses: absolute, relative, gRPC's triple slash, abstract", (t) => {
  t.is(resolveAddress("unix:/run/app.sock").endpoint.uri, "unix:/run/app.sock");
  t.is(resolveAddress("unix:run/app.sock").endpoint.uri, "unix:run/app.sock");
  t.is(resolveAddress("unix:///run/app.sock").endpoint.uri, "unix:/run/app.sock");
  const abstract = resolveAddress("unix:@msf-test").endpoint as { uri: string; path?: string };
  t.is(abstract.uri, "unix:@msf-test");
  t.is(abstract.path, "\0msf-test");
});

test("tcp addresses: names, IPv4, bracketed IPv6, port 0", (t) => {
  t.is(resolveAddress("tcp://localhost:7000").endpoint.uri, "tcp://localhost:7000");
  t.is(resolveAddress("tcp://127.0.0.1:0").endpoint.uri, "tcp://127.0.0.1:0");
  const v6 = resolveAddress("tcp://[::1]:7000").endpoint as { uri: string; host?: string };
  t.is(v6.uri, "tcp://[::1]:7000");
  t.is(v6.host, "::1");
});

test("malformed addresses are INVALID_ARGUMENT naming the address and the expected forms", (t) => {
  const cases: [string, RegExp][] = [
    ["http://x:1", /no known transport scheme; expected one of .*unix:\/abs\/path.*tcp:\/\/host:port/],
    ["/run/app.sock", /no known transport scheme/],
    ["unix:", /the path is empty/],
    ["unix:@", /the abstract name is empty/],
    ["unix://host/path", /a host part is not allowed/],
    [`unix:/${"x".repeat(120)}`, /longer than 107 bytes/],
    ["tcp://127.0.0.1", /expected a host and a port.*tcp:\/\/host:port or tcp:\/\/\[ipv6\]:port/],
    ["tcp://::1:80", /expected a host and a port/],
    ["tcp://host:99999", /port 99999 is above 65535/],
  ];
  for (const [uri, message] of cases) {
    const error = t.throws(() => resolveAddress(uri), { instanceOf: RpcError });
    t.is(error?.code, Code.INVALID_ARGUMENT, uri);
    t.true(error!.message.includes(`"${uri}"`), uri);
    t.regex(error!.message, message);
  }
});

test("createChannel and createServer reject a bad address or option at once", (t) => {
  t.throws(() => createChannel("nope:1"), { instanceOf: RpcError, message: /"nope:1"/ });
  t.throws(() => createServer({ listen: ["tcp://x"] }), { instanceOf: RpcError, message: /"tcp:\/\/x"/ });
  t.throws(() => createServer({ listen: [] }), { message: /non-empty array/ });
  t.throws(() => createServer({ listen: ["tcp://127.0.0.1:0"], maxConcurrentCalls: 0 }), { message: /maxConcurrentCalls/ });
  t.throws(() => createChannel("tcp://127.0.0.1:1", { timeoutMs: -1 }), { message: /timeoutMs .* got -1/ });
  t.throws(() => createChannel("tcp://127.0.0.1:1", { codec: "xml" as "json" }), { message: /unknown codec "xml"/ });
});
