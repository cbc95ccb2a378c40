import { testService } from "./flight-service.js";

/**
 * The service of the blocking-call tests (served by sync-peer.ts):
 * echo  — errmsg = name, flightsInfo = "departureCity->destinationCity" (each reply tells which request it answers)
 * fail  — throws RpcError with code Number(password) and message name
 * slow  — waits Number(password) ms, then answers like echo
 * meta  — errmsg = the call's metadata as sorted "key=value" pairs joined by ","
 */
export const syncService = testService("synctest.sync_service", ["echo", "fail", "slow", "meta"]);

