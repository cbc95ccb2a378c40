// The blocking-call suite of sync-call.test.ts, run against the native engine (the sync_socket
// addon): the variable must be set before that file's tests create their channels.
process.env.MSF_SYNC_IMPL = "native";
await import("./sync-call.test.js");
