import test from "ava";
import { Code, RpcError } from "msf";

test("RpcError message starts with the code name", (t) => {
  const error = new RpcError(Code.DEADLINE_EXCEEDED, "too slow");
  t.is(error.message, "[DEADLINE_EXCEEDED] too slow");
  t.is(error.code, Code.DEADLINE_EXCEEDED);
  t.is(RpcError.from(new Error("boom")).code, Code.INTERNAL);
});
