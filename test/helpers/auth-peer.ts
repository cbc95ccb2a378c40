/**
 * The server process of the blocking-call authentication tests (a blocking call blocks its own
 * thread, so the server must live elsewhere). Run with `node --import tsx --conditions=msf-source`.
 *
 *   auth-peer.ts <listen-uri>...   serves auth.svc (auth-fixtures.ts) with serverCredentials and
 *                                  server name "flightd"; prints "listening <address>" per address
 *                                  and "auth-failure <reason> <name>" per failed authentication,
 *                                  then serves until SIGTERM/SIGINT
 */
import { createServer } from "msf";
import { AuthService, authHandlers, serverCredentials } from "./auth-fixtures.js";

const server = createServer({
  listen: process.argv.slice(2),
  auth: { credentials: serverCredentials, serverName: "flightd" },
  onAuthFailure: (info) => console.log(`auth-failure ${info.reason} ${info.name ?? "-"}`),
});
server.addService(AuthService, authHandlers);
await server.start();
for (const address of server.addresses) console.log(`listening ${address}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void server.close({ graceMs: 200 }).then(() => process.exit(0));
  });
}
