import type { Channel } from "../client/channel-api.js";
import { createChannel } from "../client/create-channel.js";
import type { Codec } from "../codec/codec.js";
import { ControlClient } from "../daemon/gen/control.client.js";
import { StatusRequest } from "../daemon/gen/control.js";
import type { GlobalFlags } from "./cli-args.js";
import { CliError, ExitCode } from "./cli-errors.js";
import { brokerAuth, checkControlSocket, controlAuth, resolveControlTarget, type ControlTarget } from "./control-target.js";

/**
 * A command's connections to msfd: the control client (opened at once) and channels to the
 * broker (opened on demand). close() closes them all; every command calls it, also on failure,
 * so the process exits on its own once the output is written.
 */
export interface DaemonSession {
  readonly target: ControlTarget;
  readonly control: ControlClient;
  /** Per-call time limit for control calls, in ms. */
  readonly timeoutMs: number;
  /**
   * The broker's address: `--target`, else the first listen address msfd reports in Status,
   * else the config's first listen address.
   */
  brokerAddress(): Promise<string>;
  /** A new channel to the broker with the given codec and the configured credentials. */
  brokerChannel(codec: Codec | "protobuf"): Promise<Channel>;
  close(): Promise<void>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

export async function openDaemon(flags: GlobalFlags, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<DaemonSession> {
  const target = await resolveControlTarget(flags, env);
  checkControlSocket(target);
  const channel = createChannel(target.control, { auth: controlAuth(target), timeoutMs });
  const control = new ControlClient(channel);
  const channels: Channel[] = [channel];
  let address: string | undefined = flags.target;

  const brokerAddress = async (): Promise<string> => {
    if (address !== undefined) return address;
    const status = await control.status(StatusRequest.fromPartial({}));
    address = status.listen[0] ?? target.listen[0];
    if (address === undefined) throw new CliError(ExitCode.FAILED, "msfd reports no broker address (listen); give one with --target");
    return address;
  };

  return {
    target,
    control,
    timeoutMs,
    brokerAddress,
    async brokerChannel(codec) {
      const broker = createChannel(await brokerAddress(), { codec, timeoutMs, ...optional("auth", brokerAuth(target)) });
      channels.push(broker);
      return broker;
    },
    async close() {
      await Promise.all(channels.map((each) => each.close()));
    },
  };
}

/** `{ [key]: value }` when value is defined, else `{}` (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
