/**
 * Test messages for flight.flight_service, written in ts-proto's style (what msf-gen emits for
 * messages), so runtime tests do not depend on the code generator. Schema:
 *
 *   message queryFlightRequest  { string name = 1; string password = 2; string departureCity = 3; string destinationCity = 4; }
 *   message queryFlightResponse { int32 errcode = 1; string errmsg = 2; string flightsInfo = 3; }
 *   service flight_service { rpc queryFlight(queryFlightRequest) returns (queryFlightResponse); }
 */
/* eslint-disable */
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";

export const protobufPackage = "flight";

export interface QueryFlightRequest {
  name: string;
  password: string;
  departureCity: string;
  destinationCity: string;
}

export interface QueryFlightResponse {
  errcode: number;
  errmsg: string;
  flightsInfo: string;
}

function createBaseQueryFlightRequest(): QueryFlightRequest {
  return { name: "", password: "", departureCity: "", destinationCity: "" };
}

export const QueryFlightRequest: MessageFns<QueryFlightRequest> = {
  encode(message: QueryFlightRequest, writer: BinaryWriter = new BinaryWriter()): BinaryWriter {
    if (message.name !== "") {
      writer.uint32(10).string(message.name);
    }
    if (message.password !== "") {
      writer.uint32(18).string(message.password);
    }
    if (message.departureCity !== "") {
      writer.uint32(26).string(message.departureCity);
    }
    if (message.destinationCity !== "") {
      writer.uint32(34).string(message.destinationCity);
    }
    return writer;
  },

  decode(input: BinaryReader | Uint8Array, length?: number): QueryFlightRequest {
    const reader = input instanceof BinaryReader ? input : new BinaryReader(input);
    const previousRecursionDepth = (reader as any).__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    (reader as any).__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === undefined ? reader.len : reader.pos + length;
      const message = createBaseQueryFlightRequest();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 10) {
              break;
            }

            message.name = reader.string();
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }

            message.password = reader.string();
            continue;
          }
          case 3: {
            if (tag !== 26) {
              break;
            }

            message.departureCity = reader.string();
            continue;
          }
          case 4: {
            if (tag !== 34) {
              break;
            }

            message.destinationCity = reader.string();
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      (reader as any).__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },

  fromJSON(object: any): QueryFlightRequest {
    return {
      name: isSet(object.name) ? globalThis.String(object.name) : "",
      password: isSet(object.password) ? globalThis.String(object.password) : "",
      departureCity: isSet(object.departureCity) ? globalThis.String(object.departureCity) : "",
      destinationCity: isSet(object.destinationCity) ? globalThis.String(object.destinationCity) : "",
    };
  },

  toJSON(message: QueryFlightRequest): unknown {
    const obj: any = {};
    if (message.name !== "") {
      obj.name = message.name;
    }
    if (message.password !== "") {
      obj.password = message.password;
    }
    if (message.departureCity !== "") {
      obj.departureCity = message.departureCity;
    }
    if (message.destinationCity !== "") {
      obj.destinationCity = message.destinationCity;
    }
    return obj;
  },

  create<I extends Exact<DeepPartial<QueryFlightRequest>, I>>(base?: I): QueryFlightRequest {
    return QueryFlightRequest.fromPartial(base ?? ({} as any));
  },
  fromPartial<I extends Exact<DeepPartial<QueryFlightRequest>, I>>(object: I): QueryFlightRequest {
    const message = createBaseQueryFlightRequest();
    message.name = object.name ?? "";
    message.password = object.password ?? "";
    message.departureCity = object.departureCity ?? "";
    message.destinationCity = object.destinationCity ?? "";
    return message;
  },
};

function createBaseQueryFlightResponse(): QueryFlightResponse {
  return { errcode: 0, errmsg: "", flightsInfo: "" };
}

export const QueryFlightResponse: MessageFns<QueryFlightResponse> = {
  encode(message: QueryFlightResponse, writer: BinaryWriter = new BinaryWriter()): BinaryWriter {
    if (message.errcode !== 0) {
      writer.uint32(8).int32(message.errcode);
    }
    if (message.errmsg !== "") {
      writer.uint32(18).string(message.errmsg);
    }
    if (message.flightsInfo !== "") {
      writer.uint32(26).string(message.flightsInfo);
    }
    return writer;
  },

  decode(input: BinaryReader | Uint8Array, length?: number): QueryFlightResponse {
    const reader = input instanceof BinaryReader ? input : new BinaryReader(input);
    const previousRecursionDepth = (reader as any).__tsProtoDecodeDepth ?? 0;
    if (previousRecursionDepth >= 100) {
      throw new globalThis.Error("protobuf decode recursion limit exceeded");
    }
    (reader as any).__tsProtoDecodeDepth = previousRecursionDepth + 1;
    try {
      const end = length === undefined ? reader.len : reader.pos + length;
      const message = createBaseQueryFlightResponse();
      while (reader.pos < end) {
        const tag = reader.uint32();
        switch (tag >>> 3) {
          case 1: {
            if (tag !== 8) {
              break;
            }

            message.errcode = reader.int32();
            continue;
          }
          case 2: {
            if (tag !== 18) {
              break;
            }

            message.errmsg = reader.string();
            continue;
          }
          case 3: {
            if (tag !== 26) {
              break;
            }

            message.flightsInfo = reader.string();
            continue;
          }
        }
        if ((tag & 7) === 4 || tag === 0) {
          break;
        }
        reader.skip(tag & 7);
      }
      return message;
    } finally {
      (reader as any).__tsProtoDecodeDepth = previousRecursionDepth;
    }
  },

  fromJSON(object: any): QueryFlightResponse {
    return {
      errcode: isSet(object.errcode) ? globalThis.Number(object.errcode) : 0,
      errmsg: isSet(object.errmsg) ? globalThis.String(object.errmsg) : "",
      flightsInfo: isSet(object.flightsInfo) ? globalThis.String(object.flightsInfo) : "",
    };
  },

  toJSON(message: QueryFlightResponse): unknown {
    const obj: any = {};
    if (message.errcode !== 0) {
      obj.errcode = Math.round(message.errcode);
    }
    if (message.errmsg !== "") {
      obj.errmsg = message.errmsg;
    }
    if (message.flightsInfo !== "") {
      obj.flightsInfo = message.flightsInfo;
    }
    return obj;
  },

  create<I extends Exact<DeepPartial<QueryFlightResponse>, I>>(base?: I): QueryFlightResponse {
    return QueryFlightResponse.fromPartial(base ?? ({} as any));
  },
  fromPartial<I extends Exact<DeepPartial<QueryFlightResponse>, I>>(object: I): QueryFlightResponse {
    const message = createBaseQueryFlightResponse();
    message.errcode = object.errcode ?? 0;
    message.errmsg = object.errmsg ?? "";
    message.flightsInfo = object.flightsInfo ?? "";
    return message;
  },
};

type Builtin = Date | Function | Uint8Array | string | number | boolean | undefined;

export type DeepPartial<T> = T extends Builtin ? T
  : T extends globalThis.Array<infer U> ? globalThis.Array<DeepPartial<U>>
  : T extends ReadonlyArray<infer U> ? ReadonlyArray<DeepPartial<U>>
  : T extends {} ? { [K in keyof T]?: DeepPartial<T[K]> }
  : Partial<T>;

type KeysOfUnion<T> = T extends T ? keyof T : never;
export type Exact<P, I extends P> = P extends Builtin ? P
  : P & { [K in keyof P]: Exact<P[K], I[K]> } & { [K in Exclude<keyof I, KeysOfUnion<P>>]: never };

function isSet(value: any): boolean {
  return value !== null && value !== undefined;
}

export interface MessageFns<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: BinaryReader | Uint8Array, length?: number): T;
  fromJSON(object: any): T;
  toJSON(message: T): unknown;
  create<I extends Exact<DeepPartial<T>, I>>(base?: I): T;
  fromPartial<I extends Exact<DeepPartial<T>, I>>(object: I): T;
}
