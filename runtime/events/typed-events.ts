import type { Channel } from "../client/channel-api.js";
import { Code } from "../code.js";
import type { MessageType } from "../definition.js";
import { RpcError } from "../rpc-error.js";
import type { EventBus } from "./event-bus.js";
import type { Publisher } from "./publisher.js";
import { subscribe, type EventSubscription, type ReceivedEvent, type SubscribeOptions } from "./subscriber.js";
import { checkPattern } from "./topic.js";

/**
 * Typed events, the convention: a topic carries one message type from the IDL, its payload
 * being that message encoded with protobuf. Declare the pair once, next to the generated code
 * (`const FlightStatus = defineTopic("flight.status", FlightStatusEvent)`), and publish and
 * subscribe through it, so both sides agree on the type by construction. In the .proto, name
 * the topic in a comment on the message ("Topic: flight.status"), as idl/msf/events.proto does.
 * A pattern topic ("flight.*") may be declared for subscribing when every topic it matches
 * carries the same type.
 */
export interface Topic<T> {
  /** The topic, or a pattern (subscribe only). */
  readonly name: string;
  readonly type: MessageType<T>;
}

/** Pairs a topic with its message type. Throws RpcError INVALID_ARGUMENT for a malformed topic. */
export function defineTopic<T>(name: string, type: MessageType<T>): Topic<T> {
  checkPattern(name, "defineTopic");
  if (typeof type?.encode !== "function" || typeof type.decode !== "function") {
    throw new RpcError(Code.INVALID_ARGUMENT, `defineTopic(${JSON.stringify(name)}): expected a generated message type (with encode and decode)`);
  }
  return Object.freeze({ name, type });
}

/** Publishes `message` on `topic` (Publisher.publish with the message encoded). */
export function publishMessage<T>(publisher: Publisher, topic: Topic<T>, message: T, key?: string): Promise<void> {
  return publisher.publish(topic.name, topic.type.encode(message).finish(), key);
}

/** publishLocal of a typed event on msfd's own bus (EventBus.publishLocal with the message encoded). */
export function publishLocalMessage<T>(bus: EventBus, topic: Topic<T>, message: T): number {
  return bus.publishLocal(topic.name, topic.type.encode(message).finish());
}

/**
 * subscribe() with every payload decoded as the topic's type. A payload that does not decode
 * is an onEvent error (RpcError INVALID_ARGUMENT naming the topic): reported to onError, or it
 * ends the subscription.
 */
export function subscribeMessages<T>(
  channel: Channel,
  topic: Topic<T>,
  options: SubscribeOptions,
  onMessage: (message: T, event: ReceivedEvent) => void | Promise<void>,
): EventSubscription {
  const type = topic.type;
  return subscribe(channel, topic.name, options, (event) => {
    let message: T;
    try {
      message = type.decode(event.payload);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RpcError(Code.INVALID_ARGUMENT, `event on topic ${event.topic}: the payload does not decode as the message type of ${topic.name}: ${reason}`, { cause: error });
    }
    return onMessage(message, event);
  });
}
