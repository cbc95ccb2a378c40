import {
  type DescriptorProto,
  type FileDescriptorProto,
  MethodOptions_IdempotencyLevel,
  type ServiceDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { methodId } from "../runtime/wire/header.js";
import { CodegenError, type SourceLocation } from "./codegen-error.js";
import { isIdentifier, methodLocalName, type ServiceNames, serviceNames, tsProtoTypeName } from "./names.js";
import { moduleBase } from "./module-paths.js";
import { methodPath, servicePath, type SourceInfo } from "./source-info.js";

// Services as the descriptors describe them, with every name, id and type resolved: the
// input of model.ts, which only adds what differs per generated file (local import names).

/** A message type as ts-proto exports it. */
export interface MessageTypeRef {
  /** The .proto name, without package: "queryFlightRequest", "Item.Part". */
  readonly protoName: string;
  readonly tsName: string;
  /** ts-proto's module for the defining file, relative to the output folder: "google/protobuf/empty". */
  readonly module: string;
}

/** A service with everything resolved but the per-file local names. */
export interface ServiceDraft {
  readonly protoName: string;
  readonly fullName: string;
  readonly names: ServiceNames;
  readonly comment: readonly string[];
  readonly location: SourceLocation;
  readonly methods: readonly MethodDraft[];
}

export interface MethodDraft {
  readonly protoName: string;
  readonly localName: string;
  readonly fullName: string;
  readonly id: number;
  readonly idempotent: boolean;
  readonly request: MessageTypeRef;
  readonly response: MessageTypeRef;
  readonly comment: readonly string[];
  readonly location: SourceLocation;
}

/** Every message of every file by its fully-qualified name (".flight.queryFlightRequest"). */
export function indexMessageTypes(files: readonly FileDescriptorProto[]): Map<string, MessageTypeRef> {
  const index = new Map<string, MessageTypeRef>();
  for (const file of files) {
    const module = moduleBase(file.name);
    const visit = (messages: readonly DescriptorProto[], scope: string, path: readonly string[]): void => {
      for (const message of messages) {
        const messagePath = [...path, message.name];
        const fullName = `${scope}.${message.name}`;
        index.set(fullName, { protoName: messagePath.join("."), tsName: tsProtoTypeName(messagePath), module });
        visit(message.nestedType, fullName, messagePath);
      }
    };
    visit(file.messageType, file.package === "" ? "" : `.${file.package}`, []);
  }
  return index;
}

export function describeService(
  file: FileDescriptorProto,
  service: ServiceDescriptorProto,
  serviceIndex: number,
  info: SourceInfo,
  types: Map<string, MessageTypeRef>,
): ServiceDraft {
  const fullName = file.package === "" ? service.name : `${file.package}.${service.name}`;
  const location = info.locate(servicePath(serviceIndex));
  const names = serviceNames(service.name);
  if (!isIdentifier(names.typeName)) {
    throw new CodegenError(`service ${service.name} has no usable TypeScript name (got "${names.typeName}")`, location);
  }
  const methods = service.method.map((method, methodIndex): MethodDraft => {
    const path = methodPath(serviceIndex, methodIndex);
    const methodLocation = info.locate(path);
    const label = `rpc ${service.name}.${method.name}`;
    if (method.clientStreaming || method.serverStreaming) {
      throw new CodegenError(`${label} uses streaming, which msf-gen does not support yet`, methodLocation);
    }
    const localName = methodLocalName(method.name);
    if (!isIdentifier(localName)) {
      throw new CodegenError(`${label} has no usable TypeScript name (got "${localName}")`, methodLocation);
    }
    const resolveType = (typeName: string, role: string): MessageTypeRef => {
      const ref = types.get(typeName);
      if (ref === undefined) throw new CodegenError(`${label}: ${role} type ${typeName} is not a message`, methodLocation);
      return ref;
    };
    const level = method.options?.idempotencyLevel ?? MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN;
    const methodFullName = `${fullName}.${method.name}`;
    return {
      protoName: method.name,
      localName,
      fullName: methodFullName,
      id: methodId(methodFullName),
      idempotent: level === MethodOptions_IdempotencyLevel.IDEMPOTENT || level === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS,
      request: resolveType(method.inputType, "request"),
      response: resolveType(method.outputType, "response"),
      comment: info.comment(path),
      location: methodLocation,
    };
  });
  return { protoName: service.name, fullName, names, comment: info.comment(servicePath(serviceIndex)), location, methods };
}
