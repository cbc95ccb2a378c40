// How the daemon benchmark runs its processes: by default as users run msf, compiled: msfd from
// dist/ (dist/runtime/daemon/msfd.js), clients and the plugin transpiled once to plain JS, msf
// resolved to dist/ — no TypeScript loader in any measured process. bench/launcher.ts's
// compiledLauncher does the shared part (rebuilds dist/ when a runtime/ source is newer, lays out
// an app directory whose node_modules/msf is this package); this file adds the daemon
// benchmark's own entries to that app directory. With --source: everything through tsx, msf from
// runtime/*.ts, as msfd runs in its tests.
//
// Why it matters: tsx compiles with esbuild's keepNames, which wraps every closure in a
// __name(fn, "name") call (a defineProperty on each closure made); msfd's forwarding path makes
// several closures per call, and under tsx that helper alone took about a fifth of msfd's CPU.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { compiledLauncher } from "../launcher.js";
import { SOURCE_NODE_ARGS } from "./processes.js";

/** The processes the daemon benchmark starts, and how. */
export interface DaemonLauncher {
  /** "compiled" or "source". */
  readonly mode: "compiled" | "source";
  /** node's arguments before a script (profiling flags are added by the caller). */
  readonly nodeArgs: readonly string[];
  /** Where children run (resolves "msf" for them). */
  readonly cwd: string;
  /** msfd's entry. */
  readonly msfd: string;
  /** A benchmark entry of bench/daemon ("call-client-main", ...), as a runnable script. */
  script(entry: DaemonEntry): string;
  /** The plugin module msfd's config re-exports. */
  readonly plugin: string;
}

export const DAEMON_ENTRIES = ["call-client-main", "event-publisher-main", "event-subscriber-main"] as const;
export type DaemonEntry = (typeof DAEMON_ENTRIES)[number];

export function sourceDaemonLauncher(repoRoot: string): DaemonLauncher {
  return {
    mode: "source",
    nodeArgs: SOURCE_NODE_ARGS,
    cwd: repoRoot,
    msfd: join(repoRoot, "runtime/daemon/msfd.ts"),
    script: (entry) => join(repoRoot, "bench/daemon", `${entry}.ts`),
    plugin: join(repoRoot, "bench/daemon/bench-plugin.ts"),
  };
}

export async function compiledDaemonLauncher(repoRoot: string, workDir: string, log: (line: string) => void): Promise<DaemonLauncher> {
  const shared = await compiledLauncher(repoRoot, workDir, ["msf"], log);
  const appDir = shared.cwd;
  const msfd = join(repoRoot, "dist/runtime/daemon/msfd.js");
  if (!existsSync(msfd)) throw new Error(`${msfd} is missing after building dist/ (npm run build)`);
  const { default: ts } = await import("typescript");
  const roots = [...DAEMON_ENTRIES.map((entry) => join(repoRoot, "bench/daemon", `${entry}.ts`)), join(repoRoot, "bench/daemon/bench-plugin.ts")];
  for (const file of importClosure(repoRoot, roots)) {
    const result = ts.transpileModule(readFileSync(file, "utf8"), {
      fileName: file,
      reportDiagnostics: true,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const error = result.diagnostics?.[0];
    if (error !== undefined) throw new Error(`bench daemon: cannot transpile ${file}: ${ts.flattenDiagnosticMessageText(error.messageText, "\n")}`);
    const out = join(appDir, relative(repoRoot, file)).replace(/\.ts$/, ".js");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, result.outputText);
  }
  return {
    mode: "compiled",
    nodeArgs: [],
    cwd: appDir,
    msfd,
    script: (entry) => join(appDir, "bench/daemon", `${entry}.js`),
    plugin: join(appDir, "bench/daemon/bench-plugin.js"),
  };
}

const RELATIVE_IMPORT = /from\s*["'](\.{1,2}\/[^"']+)\.js["']/g;

/** The entry files and every .ts file they reach through static relative imports (bench's and examples' code). */
function importClosure(repoRoot: string, entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    if (!existsSync(file)) throw new Error(`bench daemon: ${relative(repoRoot, file)} is imported but does not exist`);
    seen.add(file);
    for (const match of readFileSync(file, "utf8").matchAll(RELATIVE_IMPORT)) queue.push(resolve(dirname(file), `${match[1]!}.ts`));
  }
  return [...seen];
}
