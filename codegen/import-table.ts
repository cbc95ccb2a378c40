/** One import statement, ready to print: `import {type }{ specifiers } from "from";`. */
export interface ImportLine {
  readonly from: string;
  /** All specifiers are types: print `import type`. */
  readonly typeOnly: boolean;
  /** "A, B as B$1, type C": sorted, with inline `type` markers when the line mixes kinds. */
  readonly specifiers: string;
}

/**
 * The imports of one generated file, tracked as symbols (name + module), so the model can
 * ask for any symbol and get a local name that is unique in the file: the symbol's own name
 * when free, else `name$1`, `name$2`, ... Names the file declares itself are reserved (a
 * caller that must not alias a symbol checks isTaken() first).
 * Asking twice for the same symbol returns the same local name; a value request upgrades an
 * earlier type-only request of that symbol.
 */
export class ImportTable {
  private readonly taken = new Set<string>();
  private readonly symbols = new Map<string, { from: string; name: string; local: string; typeOnly: boolean }>();

  constructor(declared: Iterable<string>) {
    for (const name of declared) this.taken.add(name);
  }

  /** True when the file declares `name` or already imports something under it. */
  isTaken(name: string): boolean {
    return this.taken.has(name);
  }

  /** The local name under which `name` from module `from` is usable in this file. */
  use(from: string, name: string, kind: "value" | "type"): string {
    const key = `${from}\u0000${name}`;
    const existing = this.symbols.get(key);
    if (existing !== undefined) {
      if (kind === "value") existing.typeOnly = false;
      return existing.local;
    }
    let local = name;
    for (let n = 1; this.taken.has(local); n++) local = `${name}$${n}`;
    this.taken.add(local);
    this.symbols.set(key, { from, name, local, typeOnly: kind === "type" });
    return local;
  }

  /** Import lines: the runtime ("msf" and other bare modules) first, then relative paths; each sorted. */
  lines(): ImportLine[] {
    const byModule = new Map<string, Array<{ name: string; local: string; typeOnly: boolean }>>();
    for (const symbol of this.symbols.values()) {
      const list = byModule.get(symbol.from) ?? [];
      list.push(symbol);
      byModule.set(symbol.from, list);
    }
    const modules = [...byModule.keys()].sort((a, b) => {
      const relativeA = a.startsWith(".");
      const relativeB = b.startsWith(".");
      if (relativeA !== relativeB) return relativeA ? 1 : -1;
      return compare(a, b);
    });
    return modules.map((from) => {
      const symbols = (byModule.get(from) ?? []).sort((a, b) => compare(a.local, b.local));
      const typeOnly = symbols.every((symbol) => symbol.typeOnly);
      const specifiers = symbols
        .map((symbol) => {
          const alias = symbol.local === symbol.name ? symbol.name : `${symbol.name} as ${symbol.local}`;
          return !typeOnly && symbol.typeOnly ? `type ${alias}` : alias;
        })
        .join(", ");
      return { from, typeOnly, specifiers };
    });
  }
}

/** Code-point order, independent of the locale, so output is the same on every machine. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
