import { performance } from "node:perf_hooks";
import type { CallOptions } from "../client/call-options.js";
import { codeName } from "../code.js";
import { rawCodec } from "../codec/raw.js";
import { rawMethod } from "../raw-method.js";
import { RpcError } from "../rpc-error.js";
import { CliError, ExitCode } from "./cli-errors.js";
import { JSON_CODEC_ID } from "./cmd-call.js";
import { jsonText, withDaemon, type CommandContext } from "./command-context.js";
import { LatencyHistogram } from "./latency-histogram.js";
import type { MethodRef } from "./method-ref.js";
import { resolveMethod } from "./method-resolve.js";
import type { PayloadSource } from "./payload.js";
import { requestBody } from "./request-body.js";

export interface BenchSettings {
  readonly method: MethodRef;
  readonly request: PayloadSource;
  readonly metadata: Readonly<Record<string, string>>;
  readonly concurrency: number;
  readonly durationMs: number;
}

export interface BenchResult {
  readonly target: string;
  readonly method: string;
  readonly concurrency: number;
  /** Measured from the start of the load to the last answer. */
  readonly elapsedMs: number;
  readonly calls: number;
  readonly ok: number;
  /** Failed calls by status code name. */
  readonly errors: Readonly<Record<string, number>>;
  readonly callsPerSecond: number;
  /** Latency of every call (failed ones too), in ms. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

/**
 * `msf bench <service>.<method> '<json>' -c N -d S`: N loops each keep one call in flight through
 * the broker (json raw calls, as `msf call`) until S seconds have passed; calls in flight then
 * finish (each bounded by --timeout). One call is made first, outside the measurement: if it
 * fails, that is the command's error (unreachable, unauthenticated, no such method) and no load
 * is run. Exit 0 when every call succeeded, 1 when some failed (the report is printed anyway).
 */
export async function runBench(context: CommandContext, settings: BenchSettings): Promise<void> {
  const body = await requestBody(settings.request);
  const result = await withDaemon(context, async (session) => {
    const info = await resolveMethod(session, settings.method);
    const target = await session.brokerAddress();
    const channel = await session.brokerChannel(rawCodec(JSON_CODEC_ID));
    const method = rawMethod(info.fullName, info.idempotent);
    const options: CallOptions = { metadata: { ...settings.metadata }, timeoutMs: session.timeoutMs };
    await channel.unary(method, body, options);

    const histogram = new LatencyHistogram();
    const errors: Record<string, number> = {};
    let ok = 0;
    const start = performance.now();
    const end = start + settings.durationMs;
    const loop = async (): Promise<void> => {
      while (performance.now() < end) {
        const sent = performance.now();
        try {
          await channel.unary(method, body, options);
          ok++;
        } catch (error) {
          const code = codeName(RpcError.from(error).code);
          errors[code] = (errors[code] ?? 0) + 1;
        }
        histogram.record((performance.now() - sent) * 1000);
      }
    };
    await Promise.all(Array.from({ length: settings.concurrency }, loop));
    const elapsedMs = performance.now() - start;
    return {
      target,
      method: `${settings.method.service}.${info.name}`,
      concurrency: settings.concurrency,
      elapsedMs,
      calls: histogram.count,
      ok,
      errors,
      callsPerSecond: histogram.count / (elapsedMs / 1000),
      latencyMs: { p50: histogram.percentile(0.5) / 1000, p99: histogram.percentile(0.99) / 1000, max: histogram.max / 1000 },
    } satisfies BenchResult;
  });
  context.out(context.flags.json ? jsonText(result, true) : formatBench(result));
  const failed = result.calls - result.ok;
  if (failed > 0) throw new CliError(ExitCode.FAILED, `${failed} of ${result.calls} calls failed`);
}

export function formatBench(result: BenchResult): string {
  const errors = Object.entries(result.errors)
    .sort(([, a], [, b]) => b - a)
    .map(([code, count]) => `${code} ${count}`);
  return [
    `bench ${result.method} via ${result.target}: concurrency ${result.concurrency}, ${(result.elapsedMs / 1000).toFixed(2)} s`,
    `  calls     ${result.calls} (${Math.round(result.callsPerSecond)} calls/s)`,
    `  ok        ${result.ok}`,
    `  errors    ${errors.length === 0 ? "0" : errors.join(", ")}`,
    `  latency   p50 ${ms(result.latencyMs.p50)}  p99 ${ms(result.latencyMs.p99)}  max ${ms(result.latencyMs.max)}`,
    "",
  ].join("\n");
}

function ms(value: number): string {
  return `${value < 10 ? value.toFixed(3) : value.toFixed(1)} ms`;
}
