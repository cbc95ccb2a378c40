/**
 * "msf/daemon": calling msfd's services by name from an application (brokered or direct), and
 * the control API's client for tools. msfd itself is the `msfd` bin; its operator CLI is `msf`.
 */
export { connectService, daemonResolver, type ServiceChannelOptions, type ServiceMode } from "./service-channel.js";
export { createNamedChannel, type NamedChannel, type NamedChannelOptions, type Resolver } from "./agent/named-channel.js";
export { ControlClient } from "./gen/control.client.js";
export { controlClientAuth, type ControlAccess } from "./control-credentials.js";
export { loadConfig, ConfigError, type DaemonConfig } from "./config/index.js";
