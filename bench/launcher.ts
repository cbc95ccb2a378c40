// How the driver runs its children. By default, what users get: msf from the compiled package
// (dist/, rebuilt first when older than runtime/), and the benchmark's own TypeScript transpiled
// once to plain JS in a temp dir, so no child carries a TypeScript loader (its thread and heap
// would blur the RSS figures). With --source: everything through tsx, msf from runtime/*.ts.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type { Launcher } from "./children.js";
import { IMPLEMENTATION_MODULES, usesMsf, type ImplementationName } from "./impl/load.js";

const ENTRIES = ["server-main", "client-main"] as const;

export function sourceLauncher(repoRoot: string): Launcher {
  return {
    nodeArgs: ["--import", "tsx", "--conditions=msf-source"],
    script: (entry) => join(repoRoot, "bench", `${entry}.ts`),
    cwd: repoRoot,
  };
}

/**
 * Builds dist/ if stale (when msf is among `impls`), transpiles the children's sources and the
 * implementations' modules into `workDir`, and returns their launcher.
 */
export async function compiledLauncher(
  repoRoot: string,
  workDir: string,
  impls: readonly ImplementationName[],
  log: (line: string) => void,
): Promise<Launcher> {
  const stale = impls.some(usesMsf) ? staleRuntimeFile(repoRoot) : undefined;
  if (stale !== undefined) {
    log(`building dist/ (npm run build): ${stale} is newer than its compiled file`);
    const build = spawnSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    const output = `${build.stdout}${build.stderr}`.trim();
    // tsc's status 2: type errors, but every file was emitted. The runtime's compiled JS is then
    // complete, so the run goes on, saying so; any other failure stops it.
    if (build.status === 2 && staleRuntimeFile(repoRoot) === undefined) {
      log(`warning: dist/ was built with type errors (the measured code is emitted in full):\n${output}`);
    } else if (build.status !== 0) {
      throw new Error(`npm run build failed (status ${build.status}); the benchmark measures the built package:\n${output}`);
    }
  }
  // Loaded here, not at the top: it takes a while, and --source runs never need it.
  const { default: ts } = await import("typescript");
  const transpile = (file: string): string => {
    const result = ts.transpileModule(readFileSync(file, "utf8"), {
      fileName: file,
      reportDiagnostics: true,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    const error = result.diagnostics?.[0];
    if (error !== undefined) throw new Error(`bench: cannot transpile ${file}: ${ts.flattenDiagnosticMessageText(error.messageText, "\n")}`);
    return result.outputText;
  };
  const appDir = join(workDir, "app");
  // impl/load.ts imports each implementation dynamically: those are roots of their own.
  const roots = [
    ...ENTRIES.map((entry) => join(repoRoot, "bench", `${entry}.ts`)),
    ...impls.map((impl) => join(repoRoot, "bench", IMPLEMENTATION_MODULES[impl])),
  ];
  for (const file of importClosure(repoRoot, roots)) {
    const out = join(appDir, relative(repoRoot, file)).replace(/\.ts$/, ".js");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, transpile(file));
  }
  writeFileSync(join(appDir, "package.json"), JSON.stringify({ name: "msf-bench-app", private: true, type: "module" }));
  // Resolve packages as an installed app would: msf itself (its exports point at dist/) and msf's node_modules.
  const modules = join(appDir, "node_modules");
  mkdirSync(modules);
  symlinkSync(repoRoot, join(modules, "msf"), "dir");
  for (const name of readdirSync(join(repoRoot, "node_modules"))) {
    if (name.startsWith(".") || name === "msf") continue;
    symlinkSync(join(repoRoot, "node_modules", name), join(modules, name), "dir");
  }
  return {
    nodeArgs: [],
    script: (entry) => join(appDir, "bench", `${entry}.js`),
    cwd: appDir,
  };
}

/** A runtime/ source newer than its dist/ counterpart (or without one), relative to the repo; else undefined. */
function staleRuntimeFile(repoRoot: string): string | undefined {
  const walk = (dir: string): string | undefined => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        const found = walk(path);
        if (found !== undefined) return found;
      } else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
        const compiled = join(repoRoot, "dist", relative(repoRoot, path)).replace(/\.ts$/, ".js");
        if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(path).mtimeMs) return relative(repoRoot, path);
      }
    }
    return undefined;
  };
  return walk(join(repoRoot, "runtime"));
}

const RELATIVE_IMPORT = /from\s*["'](\.{1,2}\/[^"']+)\.js["']/g;

/** The entry files and every .ts file they reach through static relative imports. */
function importClosure(repoRoot: string, entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    if (!existsSync(file)) throw new Error(`bench: ${relative(repoRoot, file)} is imported but does not exist`);
    seen.add(file);
    for (const match of readFileSync(file, "utf8").matchAll(RELATIVE_IMPORT)) {
      queue.push(resolve(dirname(file), `${match[1]!}.ts`));
    }
  }
  return [...seen];
}
