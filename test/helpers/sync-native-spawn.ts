// Starts test/helpers/sync-native-peer.ts in a child process for the native blocking-call tests
// (their calls block this process's event loop, so the server must live elsewhere).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

const repoRoot = resolve(import.meta.dirname, "../..");
const peerScript = resolve(repoRoot, "test/helpers/sync-native-peer.ts");

export interface NativePeer {
  /** The addresses it printed ("listening <address>"), in the order given. */
  readonly addresses: string[];
  /** Kills it (SIGKILL) and waits for its exit; idempotent. */
  kill(): Promise<void>;
}

/** Runs the peer with `args`; resolves once it printed `count` addresses (at most `limitMs`, else it is killed and this rejects). */
export async function startNativePeer(args: string[], count: number, limitMs = 20_000): Promise<NativePeer> {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=msf-source", peerScript, ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await exited;
  };
  const addresses: string[] = [];
  try {
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`sync-native-peer ${args.join(" ")} not listening within ${limitMs} ms`)), limitMs);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        const match = /^listening (\S+)$/.exec(line);
        if (match !== null) addresses.push(match[1]!);
        if (addresses.length === count) {
          clearTimeout(timer);
          done();
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        fail(new Error(`sync-native-peer ${args.join(" ")} exited (code ${code}) before listening`));
      });
    });
  } catch (error) {
    await kill();
    throw error;
  }
  return { addresses, kill };
}
