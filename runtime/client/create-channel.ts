import type { Channel } from "./channel-api.js";
import { MsfChannel } from "./channel.js";
import { type ChannelOptions, normalizeChannelOptions } from "./channel-options.js";

export type { ChannelOptions } from "./channel-options.js";

/**
 * Creates a channel to `target` ("unix:/run/app.sock", "unix:@name", "tcp://host:port").
 * Nothing is connected until the first call. Throws RpcError INVALID_ARGUMENT for a malformed
 * target or option.
 */
export function createChannel(target: string, options?: ChannelOptions): Channel {
  return new MsfChannel(target, normalizeChannelOptions(target, options), options ?? {});
}
