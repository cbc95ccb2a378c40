import type { Channel } from "./channel-api.js";
import { MsfChannel } from "./channel.js";
import { type ChannelOptions, normalizeChannelOptions } from "./channel-options.js";
import { selectionRule } from "./endpoint-order.js";
import { parseTarget, type TargetInput } from "./endpoint-target.js";

export type { ChannelOptions } from "./channel-options.js";
export type { TargetInput } from "./endpoint-target.js";

/**
 * Creates a channel to `target`: one URI ("unix:/run/app.sock", "unix:@name", "tcp://host:port"),
 * or several endpoints of one service, as an array or a comma-separated string
 * ("unix:/run/app.sock,tcp://10.0.0.5:7100"). With several, the channel connects to the best one
 * that answers: this host's endpoints first, unix before netlink before tcp before udp, then
 * remote ones in the order given (options `selection`, `transportPreference`; see
 * endpoint-order.ts), falling back to the next on a connection failure.
 *
 * Nothing is connected until the first call. Throws RpcError INVALID_ARGUMENT for a malformed
 * target or option.
 */
export function createChannel(target: TargetInput, options?: ChannelOptions): Channel {
  const parsed = parseTarget(target);
  const normalized = normalizeChannelOptions(parsed.display, options);
  return new MsfChannel(parsed, selectionRule(options ?? {}, parsed.display), normalized, options ?? {});
}
