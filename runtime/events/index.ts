/**
 * msf events: publish/subscribe through msfd (idl/msf/events.proto). Clients use createPublisher
 * and subscribe (or their typed forms) over a channel to msfd's broker address; msfd serves an
XX
 */
export { EventBus, EventBusDefinition } from "./event-bus.js";
export type { EventBusStats, SubscriptionInfo } from "./bus-stats.js";
export type { EventBusOptions } from "./bus-options.js";
export type { DropPolicyName } from "./drop-policy.js";
export { createPublisher, type Publisher, type PublisherOptions, type PublisherStats } from "./publisher.js";
export {
  subscribe,
  type EventHandler,
  type EventSubscription,
  type ReceivedEvent,
  type SubscribeOptions,
  type SubscriberStats,
} from "./subscriber.js";
export { defineTopic, publishLocalMessage, publishMessage, subscribeMessages, type Topic } from "./typed-events.js";
export { ALERT, SERVICE_OFFLINE, SERVICE_ONLINE } from "./topics.js";
export { AlertEvent, DropPolicy, ServiceStatusEvent } from "./gen/msf/events.js";
export { EventsDefinition, type EventsHandlers } from "./gen/msf/events.server.js";
export { EventsClient } from "./gen/msf/events.client.js";
