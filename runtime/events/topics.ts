import { AlertEvent, ServiceStatusEvent } from "./gen/msf/events.js";
import { defineTopic } from "./typed-events.js";

/** msfd's own events (idl/msf/events.proto). Subscribe to all of them with the pattern "msf.>". */

/** An instance of a service started serving (initially, after a restart, as a replacement). */
export const SERVICE_ONLINE = defineTopic("msf.service.online", ServiceStatusEvent);
/** An instance of a service stopped taking calls (crash, drain, stop). */
export const SERVICE_OFFLINE = defineTopic("msf.service.offline", ServiceStatusEvent);
/** Something an operator should see: memory, crash loop, load failure, restart. */
export const ALERT = defineTopic("msf.alert", AlertEvent);
