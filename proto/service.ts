// gRPC service definitions straight from protobufjs. @grpc/proto-loader does
// the same (and generates our TypeScript types: scripts/gen-proto.sh), but its
// createPackageDefinition also turns every message of the package into a
// reflection descriptor and encodes the whole file, for gRPC reflection,
// which slipway does not serve: ~25 ms of every CLI start and memory in the
// agent for nothing. The method definitions below are the ones proto-loader
// makes, with the conversion of proto/load.ts (the options the generated
// types assume), so the wire and the objects are the same.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { existsSync, readFileSync } from 'node:fs';

/** How messages become objects: proto-loader's options, as scripts/gen-proto.sh generates the types. */
export const CONVERSION: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

/**
 * The types of a .proto: from its JSON descriptor when there is one (written
 * at build time by scripts/postbuild.mjs, faster to load than parsing), else
 * parsed from the .proto (running from the sources; `protoFile` is only
 * asked then, as finding it may need a devDependency). Field names as written
 * (keepCase), as the generated types have them.
 */
export function loadRoot(descriptorJson: string, protoFile: () => string): protobuf.Root {
  const root = existsSync(descriptorJson)
    ? protobuf.Root.fromJSON(JSON.parse(readFileSync(descriptorJson, 'utf8')) as protobuf.INamespace)
    : new protobuf.Root().loadSync(protoFile(), { keepCase: true });
  root.resolveAll();
  return root;
}

function serializer(type: protobuf.Type): (value: object) => Buffer {
  return (value) => {
    if (Array.isArray(value)) throw new Error(`cannot serialize an array as ${type.fullName.slice(1)}`);
    const bytes = type.encode(type.fromObject(value)).finish(); // a Buffer on Node (protobufjs' BufferWriter)
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(type: protobuf.Type): (bytes: Buffer) => object {
  return (bytes) => type.toObject(type.decode(bytes), CONVERSION);
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** The grpc-js definition of service `fullName` (e.g. 'slipway.v1.Agent'): what server.addService and client constructors take. */
export function serviceDefinition(root: protobuf.Root, fullName: string): grpc.ServiceDefinition {
  const service = root.lookupService(fullName);
  const def: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const m of service.methodsArray) {
    const req = m.resolvedRequestType!;
    const res = m.resolvedResponseType!;
    def[m.name] = {
      path: `/${fullName}/${m.name}`,
      requestStream: Boolean(m.requestStream),
      responseStream: Boolean(m.responseStream),
      requestSerialize: serializer(req),
      requestDeserialize: deserializer(req),
      responseSerialize: serializer(res),
      responseDeserialize: deserializer(res),
      originalName: lowerFirst(m.name),
    };
  }
  return def;
}

/** A client class for service `fullName`: methods by their .proto names (and lowerCamel aliases, as grpc-js adds them). */
export function clientConstructor(root: protobuf.Root, fullName: string): grpc.ServiceClientConstructor {
  return grpc.makeGenericClientConstructor(serviceDefinition(root, fullName), fullName);
}
