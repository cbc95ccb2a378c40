import type { Channel } from "../client/channel-api.js";
import type { ChannelAuthOptions, ChannelOptions } from "../client/channel-options.js";
import { createChannel } from "../client/create-channel.js";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import type { BalanceStrategy, HashKey } from "./agent/agent-types.js";
import { createNamedChannel, type NamedChannelOptions, type Resolver } from "./agent/named-channel.js";
import { loadConfig } from "./config/index.js";
import { clientCredentials, controlClientAuth } from "./control-credentials.js";
import { ControlClient } from "./gen/control.client.js";

/**
 * Calling a service of msfd by its name (svc_name), in one of two modes:
 *
 * - brokered: the channel goes to msfd's broker address; msfd picks an instance for every call
 *   and forwards it (one hop more, and msfd sees every call: its counters, retries, ejection).
 * - direct: the channel asks msfd's control API for the service's instance endpoints and
 *   connects to them itself, balancing with the service's strategy (no extra hop; msfd is
 *   only asked again every few seconds and when an instance stops answering).
 *
 * Either way the result is an ordinary Channel for generated clients.
 */
export type ServiceMode = "brokered" | "direct";

export interface ServiceChannelOptions extends ChannelOptions {
  /** The daemon's config file: where its broker and control socket are, and the credentials. */
  readonly config: string;
  /** Default "brokered". */
  readonly mode?: ServiceMode;
  /** direct: resolve again this often, ms. Default 5000. */
  readonly refreshMs?: number;
}

/**
 * Opens a Channel to service `service` of the msfd whose config is `options.config`. Rejects
 * with RpcError NOT_FOUND (direct) when msfd has no such service, UNAVAILABLE when it is not
 * running, and INVALID_ARGUMENT for a bad config.
 */
export async function connectService(service: string, options: ServiceChannelOptions): Promise<Channel> {
  const { config: file, mode = "brokered", refreshMs, ...channelOptions } = options;
  let config;
  try {
    config = await loadConfig(file);
  } catch (error) {
    throw new RpcError(Code.INVALID_ARGUMENT, `connectService(${service}): ${error instanceof Error ? error.message : String(error)}`);
  }
  const auth: ChannelAuthOptions | undefined =
    channelOptions.auth ?? (config.auth === undefined ? undefined : clientCredentials(config.auth.secretsFile, config.auth.user));
  const withAuth = auth === undefined ? channelOptions : { ...channelOptions, auth };
  if (mode === "brokered") return createChannel(config.listen[0]!, withAuth);
  if (mode !== "direct") throw new RpcError(Code.INVALID_ARGUMENT, `connectService(${service}): mode must be "brokered" or "direct", got ${String(mode)}`);
  const control = createChannel(config.control, { auth: controlClientAuth(config), timeoutMs: 5000 });
  const resolver = daemonResolver(new ControlClient(control));
  const named = createNamedChannel(service, { ...withAuth, resolver, ...(refreshMs === undefined ? {} : { refreshMs }) } as NamedChannelOptions);
  try {
    await named.refresh();
  } catch (error) {
    await Promise.all([named.close(), control.close()]);
    throw error;
  }
  // The control channel lives as long as the named channel.
  const close = named.close.bind(named);
  named.close = async () => {
    await close();
    await control.close();
  };
  return named;
}

/** A named channel's resolver over msfd's control API (Resolve). */
export function daemonResolver(control: ControlClient): Resolver {
  return async (service) => {
    const reply = await control.resolve({ service });
    const separator = reply.hashKey.indexOf(":");
    const hashKey: HashKey | undefined =
      separator < 0 ? undefined : { from: reply.hashKey.slice(0, separator) as HashKey["from"], name: reply.hashKey.slice(separator + 1) };
    return {
      endpoints: reply.endpoints.map((endpoint) => endpoint.endpoint),
      strategy: reply.strategy as BalanceStrategy,
      ...(hashKey === undefined ? {} : { hashKey }),
    };
  };
}
