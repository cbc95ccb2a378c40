/**
 * CHAP authentication (docs/auth.md): the folder's entry point for the server, the channel and
 * runtime/index.ts. Transport-independent: everything here speaks in AUTH frame bodies.
 *
 * Server, per server:      const auth = createServerAuth({ credentials: { billing: "s3cret" } });
 *        per connection:   const guard = serverAuthGuard(auth, { peerKey, peerAddress }, events); guard.start();
 * Client, per channel:     const auth = createClientAuth({ name: "billing", secret: "s3cret" });
 *        per connection:   const guard = clientAuthGuard(auth, events); guard.start();
 */
export type { AuthClock } from "./auth-clock.js";
export { systemClock } from "./auth-clock.js";
export { AuthFailure, AuthFailureReason } from "./auth-failure.js";
export { AuthKey } from "./auth-key.js";
export { AuthMessageError, AuthStepType, decodeAuthMessage, encodeAuthMessage } from "./auth-messages.js";
export type { AuthMessage } from "./auth-messages.js";
export { AuthStep } from "./auth-step.js";
export type { AuthSuccess } from "./auth-step.js";
export { ClientAuth, createClientAuth } from "./client-auth.js";
export type { ClientAuthOptions } from "./client-auth.js";
export { ClientAuthGuard, clientAuthGuard } from "./client-auth-guard.js";
export type { ClientAuthEvents } from "./client-auth-guard.js";
export { ClientHandshake, clientHandshake } from "./client-handshake.js";
export type { ClientHandshakeState } from "./client-handshake.js";
export { CredentialStore, readSecretsFile } from "./credentials.js";
export type { CredentialEntry, Credentials, Secret } from "./credentials.js";
export { FailureThrottle } from "./failure-throttle.js";
export type { FailureThrottleOptions, ThrottleSlot } from "./failure-throttle.js";
export { createServerAuth, ServerAuth } from "./server-auth.js";
export type { ServerAuthOptions } from "./server-auth.js";
export { ServerAuthGuard, serverAuthGuard } from "./server-auth-guard.js";
export type { ServerAuthEvents } from "./server-auth-guard.js";
export { ServerHandshake, serverHandshake } from "./server-handshake.js";
export type { ServerHandshakeOptions, ServerHandshakeState } from "./server-handshake.js";
export { Session, TAG_BYTES } from "./session.js";
export type { TagDirection } from "./session.js";
