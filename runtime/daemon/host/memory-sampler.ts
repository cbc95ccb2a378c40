import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

/**
 * Resident memory of a process, read by the parent from /proc/<pid>/statm (Linux). Reading it
 * from outside works even when the child is stuck in a loop and reports nothing itself.
 */

/**
 * The process's resident set in bytes, or undefined when it cannot be read (the process is gone,
 * or this is not Linux). statm's second field counts resident pages.
 */
export async function readRssBytes(pid: number): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/statm`, "latin1");
  } catch {
    return undefined;
  }
  const resident = Number(text.split(" ")[1]);
  return Number.isFinite(resident) ? resident * pageSize() : undefined;
}

let cachedPageSize: number | undefined;

/**
 * The kernel's page size: AT_PAGESZ from this process's auxiliary vector (/proc/self/auxv, pairs
 * of native words), since Node does not expose sysconf(_SC_PAGESIZE). 4096 when it cannot be read.
 */
export function pageSize(): number {
  if (cachedPageSize !== undefined) return cachedPageSize;
  cachedPageSize = 4096;
  try {
    const auxv = readFileSync("/proc/self/auxv");
    const AT_PAGESZ = 6n;
    for (let offset = 0; offset + 16 <= auxv.length; offset += 16) {
      const type = auxv.readBigUInt64LE(offset);
      if (type === 0n) break;
      if (type === AT_PAGESZ) {
        const size = Number(auxv.readBigUInt64LE(offset + 8));
        // A power of two from 1 KiB to 1 MiB, or the vector was not what we think (a 32-bit layout).
        if (size >= 1024 && size <= 1048576 && (size & (size - 1)) === 0) cachedPageSize = size;
        break;
      }
    }
  } catch {
    // Not Linux, or /proc not mounted: statm cannot be read either, the fallback is never used.
  }
  return cachedPageSize;
}
