import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { Worker } from "node:worker_threads";
import { isChildMessage, type ChildMessage, type InstanceSpec, type ParentMessage } from "./host-messages.js";
import type { Pinning } from "./cpu-pinning.js";
import { processArguments, workerSource } from "./instance-entry.js";

/**
 * What carries an instance: a worker thread or a child process, behind one small interface so
 * Instance does not care which. Events are given at creation; a spare's carrier is handed to the
 * Instance that adopts it, which takes its events over (setEvents).
 */
export interface Carrier {
  /** The child's pid; msfd's own pid for a worker; 0 when the process could not be spawned. */
  readonly pid: number;
  readonly threadId: number | undefined;
  /** Dropped when the instance is gone. */
  send(message: ParentMessage): void;
  /** SIGKILL the process / terminate the thread, at once. onExit follows. */
  kill(): void;
  /** From now on, events go to `events`. */
  setEvents(events: CarrierEvents): void;
}

export interface CarrierEvents {
  onMessage(message: ChildMessage): void;
  /** A line the instance wrote on its stdout or stderr. */
  onOutput(stream: "stdout" | "stderr", line: string): void;
  /**
   * Fires once. `error`: why, when known (the uncaught exception that ended a worker, or a spawn
   * failure such as ENOENT).
   */
  onExit(code: number | null, signal: string | null, error: string | undefined): void;
}

export function startWorker(spec: InstanceSpec, env: Readonly<Record<string, string>>, initialEvents: CarrierEvents): Carrier {
  let events = initialEvents;
  const worker = new Worker(workerSource(spec), {
    eval: true,
    workerData: spec,
    execArgv: process.execArgv,
    env: { ...process.env, ...env },
    stdout: true,
    stderr: true,
  });
  let error: string | undefined;
  let exited = false;
  worker.on("message", (message: unknown) => {
    if (isChildMessage(message)) events.onMessage(message);
  });
  // An uncaught exception in the plugin: the thread ends with code 1 right after.
  worker.on("error", (reason: unknown) => {
    error ??= reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  });
  worker.on("exit", (code) => {
    exited = true;
    events.onExit(code, null, error);
  });
  forwardLines(worker.stdout, (line) => events.onOutput("stdout", line));
  forwardLines(worker.stderr, (line) => events.onOutput("stderr", line));
  return {
    pid: process.pid,
    threadId: worker.threadId,
    send(message) {
      if (!exited) worker.postMessage(message);
    },
    kill() {
      if (!exited) void worker.terminate();
    },
    setEvents(next) {
      events = next;
    },
  };
}

/**
 * A child process running node on instance-main, with an IPC channel. `taskset`: run it through
 * taskset pinned to `cpu`. detached: the child has its own process group, so a Ctrl-C meant for
 * msfd does not kill the instances under its feet (msfd drains them); it still exits when msfd
 * goes away, since its IPC channel then disconnects (instance-main.ts).
 */
export function startProcess(
  spec: InstanceSpec,
  env: Readonly<Record<string, string>>,
  pinning: Pinning | undefined,
  initialEvents: CarrierEvents,
): Carrier {
  let events = initialEvents;
  const nodeArguments = processArguments(spec);
  const [file, args] =
    pinning === undefined ? [process.execPath, nodeArguments] : [pinning.taskset, ["-c", String(pinning.cpu), process.execPath, ...nodeArguments]];
  const child = spawn(file, args, {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, ...env },
    detached: true,
  });
  let exited = false;
  const exit = (code: number | null, signal: string | null, error: string | undefined): void => {
    if (exited) return;
    exited = true;
    events.onExit(code, signal, error);
  };
  child.on("message", (message: unknown) => {
    if (isChildMessage(message)) events.onMessage(message);
  });
  child.on("error", (error: NodeJS.ErrnoException) => {
    // Spawn failures (ENOENT, EACCES) come with no 'exit'; other errors (a failed send) are followed by one.
    if (child.pid === undefined) exit(null, null, `cannot spawn ${file}: ${error.message}`);
  });
  child.on("exit", (code, signal) => exit(code, signal, undefined));
  forwardLines(child.stdout!, (line) => events.onOutput("stdout", line));
  forwardLines(child.stderr!, (line) => events.onOutput("stderr", line));
  return {
    pid: child.pid ?? 0,
    threadId: undefined,
    send(message) {
      if (exited || !child.connected) return;
      // The channel may close between the check and the write (the child just died): the exit reports that.
      child.send(message, (error) => void error);
    },
    kill() {
      if (!exited) child.kill("SIGKILL");
    },
    setEvents(next) {
      events = next;
    },
  };
}

function forwardLines(stream: Readable, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
}
