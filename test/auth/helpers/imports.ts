/** The auth API under test, plus the wire types tests build messages from. */
export * from "../../../runtime/auth/index.js";
export { Code } from "../../../runtime/code.js";
export type { ResponseMessage as ResponseMessageForTest } from "../../../runtime/auth/auth-messages.js";
