// The golden cases: for each, the msf-gen command whose output is committed under
// test/golden/<name>/ (generated code in gen/, implementation scaffolds in src/).
// golden.test.ts regenerates each into a temporary folder and compares; update-golden.ts
// rewrites the committed output. Paths are relative to the repo root.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";

const protos = "test/fixtures/protos";

export interface GoldenCase {
  readonly name: string;
  /** msf-gen's arguments for output under `root` (gen/ and src/ inside it). */
  args(root: string): string[];
}

export const goldenCases: readonly GoldenCase[] = [
  {
    name: "flight",
    args: (root) => [`${protos}/flight.proto`, "-o", join(root, "gen"), "--impl", join(root, "src")],
  },
  {
    name: "rich",
    args: (root) => ["-I", protos, `${protos}/rich.proto`, "-o", join(root, "gen"), "--impl", join(root, "src")],
  },
  {
    name: "legacy",
    args: (root) => [`${protos}/legacy.proto`, "-o", join(root, "gen")],
  },
  {
    name: "naming",
    args: (root) => [`${protos}/naming.proto`, "-o", join(root, "gen"), "--impl", join(root, "src")],
  },
  {
    name: "multi",
    args: (root) => [
      "-I",
      `${protos}/multi`,
      `${protos}/multi/shop.proto`,
      `${protos}/multi/billing/billing.proto`,
      `${protos}/multi/nopkg.proto`,
      `${protos}/multi/common/money.proto`,
      "-o",
      join(root, "gen"),
      "--impl",
      join(root, "src"),
    ],
  },
];

/** Every file under `root`, keyed by its "/"-separated path relative to `root`. */
export function readTree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(root, path).split(sep).join("/"), readFileSync(path, "utf8"));
    }
  };
  walk(root);
  return files;
}
