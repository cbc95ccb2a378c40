import { join, relative } from "node:path";
import { CodegenError, formatLocation, type SourceLocation } from "./codegen-error.js";
import { type ImportLine, ImportTable } from "./import-table.js";
import type { LoadedProtos } from "./load-proto.js";
import { moduleBase, moduleSpecifier, relativeModule } from "./module-paths.js";
import { checkServiceNames } from "./name-clashes.js";
import { type ServiceNames, syncMethodName } from "./names.js";
import { describeService, indexMessageTypes, type MessageTypeRef, type MethodDraft, type ServiceDraft } from "./service-drafts.js";
import { SourceInfo } from "./source-info.js";

/**
 * The view model of one msf-gen run: every decision (names, import paths and aliases, method
 * ids, idempotency, comments) is taken here; templates only lay the fields out.
 */
export interface CodegenModel {
  /** One per input .proto that declares at least one service. */
  readonly serviceFiles: readonly ServiceFileModel[];
  /** One per service when an implementation folder was given. */
  readonly implFiles: readonly ImplFileModel[];
}

/** The .server.ts and .client.ts of one .proto file. */
export interface ServiceFileModel {
  /** The .proto's descriptor name ("flight.proto"): where output paths and headers come from. */
  readonly source: string;
  readonly server: ServerFileModel;
  readonly client: ClientFileModel;
}

export interface ServerFileModel {
  /** Relative to the output folder, "/"-separated: "flight.server.ts". */
  readonly path: string;
  readonly source: string;
  readonly imports: readonly ImportLine[];
  /** Local names of the runtime's types in this file. */
  readonly runtime: { readonly CallContext: string; readonly MethodDefinition: string; readonly ServiceDefinition: string };
  readonly services: readonly ServiceModel[];
}

export interface ClientFileModel {
  readonly path: string;
  readonly source: string;
  readonly imports: readonly ImportLine[];
  readonly runtime: { readonly Channel: string; readonly CallOptions: string };
  readonly services: readonly ServiceModel[];
}

/** A service as one generated file sees it (type names are that file's local names). */
export interface ServiceModel {
  /** As written in the .proto: "flight_service". */
  readonly protoName: string;
  /** "<package>.<service>", or "<service>" without a package. */
  readonly fullName: string;
  readonly names: ServiceNames;
  /** How this file refers to the service's definition const (the client imports it). */
  readonly definitionRef: string;
  /** The service's leading comment, one entry per line, for JSDoc. */
  readonly comment: readonly string[];
  readonly methods: readonly MethodModel[];
}

export interface MethodModel {
  /** As written in the .proto: "queryFlight". */
  readonly protoName: string;
  /** camelCase: the key in `methods`, the handler and the async client method. */
  readonly localName: string;
  /**
   * The method's name in the handlers interface: localName, quoted when it is `new` (unquoted,
   * `new(...)` in an interface declares a construct signature, not a method).
   */
  readonly interfaceKey: string;
  /** The blocking client method: "queryFlightSync". */
  readonly syncName: string;
  /** "<package>.<service>.<rpc>": "flight.flight_service.queryFlight". */
  readonly fullName: string;
  /** methodId(fullName) as a TypeScript literal: "0x1a2b3c4d". */
  readonly id: string;
  readonly idempotent: boolean;
  /** Local names of the request and response message types in this file. */
  readonly requestType: string;
  readonly responseType: string;
  /** The response message's name in the .proto, for prose: "queryFlightResponse". */
  readonly responseProtoName: string;
  readonly comment: readonly string[];
}

/** The implementation scaffold of one service, written once and then owned by the user. */
export interface ImplFileModel {
  /** Relative to the implementation folder: "flight_service.impl.ts". */
  readonly path: string;
  readonly source: string;
  readonly imports: readonly ImportLine[];
  readonly runtime: { readonly Code: string; readonly RpcError: string };
  readonly service: ServiceModel;
  /** The local name of the service's handlers interface in this file (service.definitionRef names the definition). */
  readonly handlersTypeRef: string;
}

export interface ModelOptions {
  /** The output folder, absolute. */
  readonly outDir: string;
  /** The implementation scaffolds' folder, absolute; undefined when no scaffolds are wanted. */
  readonly implDir: string | undefined;
  /**
   * The module specifier generated files import the runtime from; RUNTIME_MODULE by default.
   * Only msf's own services (compiled inside the package, where "msf" cannot resolve to itself
   * before it is built) use a relative path here.
   */
  readonly runtimeImport?: string | undefined;
}

/** The module every generated file imports the runtime from: the package, never a path. */
export const RUNTIME_MODULE = "msf";

/**
 * Builds the model from the descriptors. Throws CodegenError (with the .proto location) for
 * what msf-gen cannot generate: streaming rpcs, names that are no TypeScript identifiers, and
 * names that would clash in a generated file.
 */
export function buildModel(protos: LoadedProtos, options: ModelOptions): CodegenModel {
  const types = indexMessageTypes(protos.files);
  const runtimeModule = options.runtimeImport ?? RUNTIME_MODULE;
  const serviceFiles: ServiceFileModel[] = [];
  const implFiles: ImplFileModel[] = [];
  const ids = new Map<number, { fullName: string; location: SourceLocation }>();
  const implPaths = new Map<string, { fullName: string; location: SourceLocation }>();

  for (const name of protos.filesToGenerate) {
    const file = protos.files.find((candidate) => candidate.name === name);
    if (file === undefined || file.service.length === 0) continue;
    const info = new SourceInfo(file, protos.displayPath(file.name));
    const services = file.service.map((service, index) => describeService(file, service, index, info, types));

    checkServiceNames(services);
    for (const service of services) {
      for (const method of service.methods) {
        const clash = ids.get(method.id);
        if (clash !== undefined) {
          throw new CodegenError(
            `rpc ${method.fullName} has method id 0x${method.id.toString(16)}, like rpc ${clash.fullName} (${formatLocation(clash.location)}); rename one of them`,
            method.location,
          );
        }
        ids.set(method.id, { fullName: method.fullName, location: method.location });
      }
    }

    const base = moduleBase(file.name);
    const server = serverFile(`${base}.server.ts`, file.name, services, runtimeModule);
    const client = clientFile(`${base}.client.ts`, file.name, services, server.path, runtimeModule);
    serviceFiles.push({ source: file.name, server, client });

    if (options.implDir !== undefined) {
      for (const service of services) {
        const path = `${service.protoName}.impl.ts`;
        const clash = implPaths.get(path);
        if (clash !== undefined) {
          throw new CodegenError(
            `service ${service.fullName} would get the implementation file ${path}, like service ${clash.fullName} (${formatLocation(clash.location)}); generate them with separate --impl folders`,
            service.location,
          );
        }
        implPaths.set(path, { fullName: service.fullName, location: service.location });
        const serverModule = moduleSpecifier(relative(options.implDir, join(options.outDir, server.path)));
        implFiles.push(implFile(path, file.name, service, serverModule, runtimeModule));
      }
    }
  }
  return { serviceFiles, implFiles };
}


/**
 * Imports the request and response types of every method into `table`. A message whose
 * TypeScript name is one of the file's generated names is an error rather than an alias:
 * two things called FlightServiceClient in one program confuse people more than compilers.
 */
function importMessages(
  table: ImportTable,
  fromPath: string,
  services: readonly ServiceDraft[],
  declared: ReadonlyMap<string, string>,
  kind: "value" | "type",
): Map<MethodDraft, { request: string; response: string }> {
  const locals = new Map<MethodDraft, { request: string; response: string }>();
  for (const service of services) {
    for (const method of service.methods) {
      const use = (ref: MessageTypeRef): string => {
        const role = declared.get(ref.tsName);
        if (role !== undefined) {
          throw new CodegenError(
            `rpc ${service.protoName}.${method.protoName} uses message ${ref.protoName}, whose TypeScript name ${ref.tsName} is also ${role}; rename the message or the service`,
            method.location,
          );
        }
        return table.use(relativeModule(fromPath, `${ref.module}.ts`), ref.tsName, kind);
      };
      locals.set(method, { request: use(method.request), response: use(method.response) });
    }
  }
  return locals;
}

/** Every name the .server.ts and .client.ts of these services declare, with what it is. */
function declaredNames(services: readonly ServiceDraft[]): Map<string, string> {
  const declared = new Map<string, string>();
  for (const service of services) {
    declared.set(service.names.definition, `the generated definition of service ${service.protoName}`);
    declared.set(service.names.handlers, `the generated handlers interface of service ${service.protoName}`);
    declared.set(service.names.client, `the generated client class of service ${service.protoName}`);
  }
  return declared;
}

function serverFile(path: string, source: string, services: readonly ServiceDraft[], runtimeModule: string): ServerFileModel {
  const declared = declaredNames(services);
  const table = new ImportTable(services.flatMap((service) => [service.names.definition, service.names.handlers]));
  const messages = importMessages(table, path, services, declared, "value");
  const runtime = {
    CallContext: table.use(runtimeModule, "CallContext", "type"),
    MethodDefinition: table.use(runtimeModule, "MethodDefinition", "type"),
    ServiceDefinition: table.use(runtimeModule, "ServiceDefinition", "type"),
  };
  return {
    path,
    source,
    imports: table.lines(),
    runtime,
    services: services.map((service) => serviceModel(service, service.names.definition, messages)),
  };
}

function clientFile(
  path: string,
  source: string,
  services: readonly ServiceDraft[],
  serverPath: string,
  runtimeModule: string,
): ClientFileModel {
  const declared = declaredNames(services);
  const table = new ImportTable(services.map((service) => service.names.client));
  const messages = importMessages(table, path, services, declared, "type");
  const serverModule = relativeModule(path, serverPath);
  const definitions = new Map(services.map((service) => [service, table.use(serverModule, service.names.definition, "value")]));
  const runtime = {
    Channel: table.use(runtimeModule, "Channel", "type"),
    CallOptions: table.use(runtimeModule, "CallOptions", "type"),
  };
  return {
    path,
    source,
    imports: table.lines(),
    runtime,
    services: services.map((service) => serviceModel(service, definitions.get(service) ?? service.names.definition, messages)),
  };
}

/** `serverModule`: the server file as imported from the implementation folder. */
function implFile(path: string, source: string, service: ServiceDraft, serverModule: string, runtimeModule: string): ImplFileModel {
  const table = new ImportTable([service.names.handlersValue]);
  const definitionRef = table.use(serverModule, service.names.definition, "value");
  const handlersTypeRef = table.use(serverModule, service.names.handlers, "type");
  const runtime = { Code: table.use(runtimeModule, "Code", "value"), RpcError: table.use(runtimeModule, "RpcError", "value") };
  // The scaffold's handlers are typed by the handlers interface, so it imports no message types.
  const messages = new Map(
    service.methods.map((method) => [method, { request: method.request.tsName, response: method.response.tsName }]),
  );
  return {
    path,
    source,
    imports: table.lines(),
    runtime,
    service: serviceModel(service, definitionRef, messages),
    handlersTypeRef,
  };
}

function serviceModel(
  service: ServiceDraft,
  definitionRef: string,
  messages: ReadonlyMap<MethodDraft, { request: string; response: string }>,
): ServiceModel {
  return {
    protoName: service.protoName,
    fullName: service.fullName,
    names: service.names,
    definitionRef,
    comment: service.comment,
    methods: service.methods.map((method) => {
      const local = messages.get(method);
      if (local === undefined) throw new Error(`msf-gen: no imports resolved for ${method.fullName}`);
      return {
        protoName: method.protoName,
        localName: method.localName,
        interfaceKey: method.localName === "new" ? `"new"` : method.localName,
        syncName: syncMethodName(method.localName),
        fullName: method.fullName,
        id: `0x${method.id.toString(16).padStart(8, "0")}`,
        idempotent: method.idempotent,
        requestType: local.request,
        responseType: local.response,
        responseProtoName: method.response.protoName,
        comment: method.comment,
      };
    }),
  };
}

