// A benchmark server process: `server-main <impl> <unix|tcp|udp|netlink> <socket path>` (see child-protocol.ts).
// Prints `listening <target>`, answers `peak` with its peak RSS, closes and exits when stdin ends.
import { createInterface } from "node:readline";
import { LISTENING, PEAK, parseServerArgv } from "./child-protocol.js";
import { loadImplementation } from "./impl/load.js";

const RSS_SAMPLE_MS = 100;

const args = parseServerArgv(process.argv.slice(2));
const implementation = await loadImplementation(args.impl);
const server = await implementation.startServer({ transport: args.transport, socketPath: args.socketPath });

// Peak RSS while serving: from listening on, sampled every 100 ms and once more when asked.
let peakRss = process.memoryUsage.rss();
const sample = (): void => {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
};
const sampler = setInterval(sample, RSS_SAMPLE_MS);

process.stdout.write(`${LISTENING} ${server.target}\n`);

const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  if (line.trim() === PEAK) {
    sample();
    process.stdout.write(`${PEAK} ${peakRss}\n`);
  }
});
commands.once("close", () => {
  clearInterval(sampler);
  const forceExit = setTimeout(() => process.exit(0), 1000);
  forceExit.unref();
  void server.close().then(() => process.exit(0));
});
