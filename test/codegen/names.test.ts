// Name conversions (codegen/names.ts) and import aliasing (codegen/import-table.ts).
import test from "ava";
import { ImportTable } from "../../codegen/import-table.js";
import { isIdentifier, methodLocalName, serviceNames, serviceTypeName, syncMethodName, tsProtoTypeName } from "../../codegen/names.js";

test("service names: snake, Pascal and SCREAMING case all give PascalCase", (t) => {
  t.is(serviceTypeName("flight_service"), "FlightService");
  t.is(serviceTypeName("FlightService"), "FlightService");
  t.is(serviceTypeName("FLIGHT_SERVICE"), "FlightService");
  t.is(serviceTypeName("flightService"), "FlightService");
  t.is(serviceTypeName("_x__y_"), "XY");
  t.deepEqual(serviceNames("flight_service"), {
    typeName: "FlightService",
    definition: "FlightServiceDefinition",
    handlers: "FlightServiceHandlers",
    client: "FlightServiceClient",
    handlersValue: "flightServiceHandlers",
  });
});

test("rpc names: camelCase, inner capitals kept", (t) => {
  t.is(methodLocalName("QueryFlight"), "queryFlight");
  t.is(methodLocalName("query_flight"), "queryFlight");
  t.is(methodLocalName("queryFlight"), "queryFlight");
  t.is(methodLocalName("QUERY_FLIGHT"), "queryFlight");
  t.is(methodLocalName("GetAPIValue"), "getAPIValue");
  t.is(methodLocalName("get_v2_status"), "getV2Status");
  t.is(syncMethodName("queryFlight"), "queryFlightSync");
});

test("message names follow ts-proto", (t) => {
  t.is(tsProtoTypeName(["queryFlightRequest"]), "queryFlightRequest");
  t.is(tsProtoTypeName(["Outer", "Inner"]), "Outer_Inner");
  t.is(tsProtoTypeName(["Outer", "inner_part"]), "Outer_innerPart");
  t.is(tsProtoTypeName(["my_message"]), "myMessage");
  t.is(tsProtoTypeName(["MY_MESSAGE"]), "myMessage");
  t.is(tsProtoTypeName(["Date"]), "DateMessage");
  t.is(tsProtoTypeName(["Function"]), "FunctionMessage");
  t.is(tsProtoTypeName(["Date", "Part"]), "Date_Part");
});

test("identifiers", (t) => {
  t.true(isIdentifier("queryFlight"));
  t.true(isIdentifier("$x_1"));
  t.false(isIdentifier(""));
  t.false(isIdentifier("1abc"));
  t.false(isIdentifier("a-b"));
});

test("import table: one local name per symbol, aliases on clashes, declared names reserved", (t) => {
  const table = new ImportTable(["FooDefinition"]);
  t.is(table.use("./a.js", "Request", "type"), "Request");
  t.is(table.use("./b.js", "Request", "value"), "Request$1");
  t.is(table.use("./a.js", "Request", "value"), "Request");
  t.is(table.use("msf", "CallContext", "type"), "CallContext");
  t.is(table.use("./c.js", "FooDefinition", "value"), "FooDefinition$1");
  t.is(table.use("msf", "MethodDefinition", "type"), "MethodDefinition");
  t.true(table.isTaken("Request$1"));
  t.false(table.isTaken("Other"));
  t.deepEqual(table.lines(), [
    { from: "msf", typeOnly: true, specifiers: "CallContext, MethodDefinition" },
    { from: "./a.js", typeOnly: false, specifiers: "Request" },
    { from: "./b.js", typeOnly: false, specifiers: "Request as Request$1" },
    { from: "./c.js", typeOnly: false, specifiers: "FooDefinition as FooDefinition$1" },
  ]);
  const mixed = new ImportTable([]);
  mixed.use("./s.js", "Handlers", "type");
  mixed.use("./s.js", "Definition", "value");
  t.deepEqual(mixed.lines(), [{ from: "./s.js", typeOnly: false, specifiers: "Definition, type Handlers" }]);
});
