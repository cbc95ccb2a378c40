// Starts examples/flight/server.ts as a real child process and waits until it listens.
// The process runs the runtime from source (tsx + the msf-source condition), like the tests.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

const repoRoot = resolve(import.meta.dirname, "../..");

export interface FlightServerProcess {
  readonly child: ChildProcess;
  /** The addresses the server printed, in the order given. */
  readonly addresses: readonly string[];
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
}

export async function startFlightServer(listen: readonly string[], timeoutMs = 15_000): Promise<FlightServerProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions=msf-source", resolve(repoRoot, "examples/flight/server.ts"), ...listen],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] },
  );
  const addresses: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`flight server did not listen on ${listen.join(", ")} within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`flight server exited (code ${code}, signal ${signal}) before listening`));
    });
    lines.on("line", (line) => {
      const match = /^listening (\S+)$/.exec(line);
      if (match) addresses.push(match[1]!);
      if (addresses.length === listen.length) {
        clearTimeout(timer);
        resolvePromise();
      }
    });
  });
  return {
    child,
    addresses,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    },
  };
}
