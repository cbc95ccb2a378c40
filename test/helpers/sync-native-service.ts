import { testService } from "./flight-service.js";

/** The methods of the scripted server test/helpers/sync-native-peer.ts (see there what each does). */
export const scriptService = testService("nativetest.script", [
  "echo",
  "slow",
  "split",
  "big",
  "late",
  "ping",
  "goaway",
  "refuse",
  "drop",
  "garbage",
  "fail",
  "stats",
]);
