// CPU time of other processes, from /proc/<pid>/stat (Linux): what msfd, its instance and the
// clients spend per call or per event. Unlike calls/s, CPU time per call hardly depends on what
// else the machine runs, so it says where the time goes even on a loaded machine.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** The clock ticks /proc counts in (getconf CLK_TCK; 100 on Linux unless configured otherwise). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const answer = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
    const value = Number(answer.stdout?.trim());
    ticksPerSecond = answer.status === 0 && Number.isInteger(value) && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

/** User + system CPU seconds `pid` has used (all its threads), or undefined when it is gone or /proc is unreadable. */
export function cpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": after the comm, utime and stime are fields 12 and 13 (0-based).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / clockTicks();
}

/** CPU seconds of named processes between two samples. */
export class CpuWindow {
  private readonly start = new Map<string, number>();

  constructor(private readonly pids: Readonly<Record<string, number>>) {}

  open(): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      const seconds = cpuSeconds(pid);
      if (seconds !== undefined) this.start.set(name, seconds);
    }
  }

  /** Each process's CPU seconds since open(); a process not sampled both times is left out. */
  close(): Record<string, number> {
    const used: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const before = this.start.get(name);
      const after = cpuSeconds(pid);
      if (before !== undefined && after !== undefined) used[name] = after - before;
    }
    return used;
  }
}
