// Shared pieces of the runtime tests: temp dirs for unix sockets, servers torn down with the test,
// a test service with a few behaviours, and bounded waiting.
import type { ExecutionContext } from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, RpcError, createServer, type CallContext, type Server, type ServerOptions } from "msf";
import type { QueryFlightRequest, QueryFlightResponse } from "./flight-messages.js";
import { testService } from "./flight-service.js";

/** A fresh temp dir for unix sockets, removed at the end of the test. */
export function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), "msf-rt-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A unique abstract unix name for this test. */
export function abstractName(label: string): string {
  return `unix:@msf-test-${label}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * test.svc: echo (flightsInfo = name; departureCity reflects the metadata "x-echo" if sent),
 * fail (throws RpcError with the code in `errcode` form: name = code number, password = message),
 * crash (throws a plain Error), wait (resolves after `departureCity` ms, or rejects when the
 * signal aborts; `record` collects the abort reasons).
 */
export const TestService = testService("test.svc", ["echo", "fail", "crash", "wait"] as const);

export interface Recorder {
  /** Abort reasons seen by wait handlers, by request name. */
  aborts: Map<string, unknown>;
  /** Names of the requests whose handler ran. */
  ran: string[];
}

export function testHandlers(recorder: Recorder = { aborts: new Map(), ran: [] }) {
  return {
    echo(request: QueryFlightRequest, context: CallContext): QueryFlightResponse {
      recorder.ran.push(request.name);
      const echoed = context.metadata.get("x-echo");
      return { errcode: 0, errmsg: echoed ?? "", flightsInfo: request.name };
    },
    fail(request: QueryFlightRequest): QueryFlightResponse {
      throw new RpcError(Number(request.name) as Code, request.password);
    },
    crash(request: QueryFlightRequest): QueryFlightResponse {
      throw new Error(`crashed on ${request.name}`);
    },
    wait(request: QueryFlightRequest, context: CallContext): Promise<QueryFlightResponse> {
      recorder.ran.push(request.name);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve({ errcode: 0, errmsg: "", flightsInfo: `waited ${request.name}` }), Number(request.departureCity));
        context.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          recorder.aborts.set(request.name, context.signal.reason);
          reject(context.signal.reason);
        });
      });
    },
  };
}

/** Starts a server with TestService on `listen`; closed (grace 0) when the test ends. */
export async function startTestServer(
  t: ExecutionContext,
  listen: string[],
  options: Omit<ServerOptions, "listen"> = {},
  recorder?: Recorder,
): Promise<Server> {
  const server = createServer({ listen, ...options });
  server.addService(TestService, testHandlers(recorder));
  await server.start();
  t.teardown(() => server.close({ graceMs: 0 }));
  return server;
}

export function request(name: string, extra: Partial<QueryFlightRequest> = {}): QueryFlightRequest {
  return { name, password: "", departureCity: "", destinationCity: "", ...extra };
}

/** Waits until `condition()` holds, polling every 5 ms, at most `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const stopAt = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > stopAt) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The RpcError a promise rejects with (fails the test if it resolves or rejects otherwise). */
export async function rpcError(t: ExecutionContext, promise: Promise<unknown>): Promise<RpcError> {
  const error = await t.throwsAsync(promise, { instanceOf: RpcError });
  return error!;
}
