// The implementations by name. Each is imported only by the processes that run it, so a raw
// server never loads grpc-js or msf (its RSS is its own).
import type { Implementation } from "./implementation.js";

/** "msf-auth": msf with CHAP authentication on every connection (impl/msf.ts). */
export const IMPLEMENTATIONS = ["raw", "msf", "msf-auth", "grpc"] as const;
export type ImplementationName = (typeof IMPLEMENTATIONS)[number];

/** Each implementation's module, relative to bench/ (the compiled launcher transpiles only these). */
export const IMPLEMENTATION_MODULES: Record<ImplementationName, string> = {
  raw: "impl/raw.ts",
  msf: "impl/msf.ts",
  "msf-auth": "impl/msf.ts",
  grpc: "impl/grpc.ts",
};

/** Whether the implementation runs msf (the compiled launcher then needs an up-to-date dist/). */
export function usesMsf(name: ImplementationName): boolean {
  return name === "msf" || name === "msf-auth";
}

export function isImplementationName(name: string): name is ImplementationName {
  return (IMPLEMENTATIONS as readonly string[]).includes(name);
}

export async function loadImplementation(name: ImplementationName): Promise<Implementation> {
  switch (name) {
    case "raw":
      return (await import("./raw.js")).raw;
    case "msf":
      return (await import("./msf.js")).msf;
    case "msf-auth":
      return (await import("./msf.js")).msfAuth;
    case "grpc":
      return (await import("./grpc.js")).grpcJs;
  }
}
