// Loads proto/slipway.proto at run time. The options here and the flags in
// scripts/gen-proto.sh must agree, or the generated types lie.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import type { ProtoGrpcType } from './gen/slipway.js';

// postbuild copies slipway.proto beside the compiled loader, so this path
// holds both from the sources (tsx) and from dist/.
const PROTO = fileURLToPath(new URL('./slipway.proto', import.meta.url));

export const packageDefinition = protoLoader.loadSync(PROTO, {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [dirname(PROTO)],
});

export const proto = grpc.loadPackageDefinition(packageDefinition) as unknown as ProtoGrpcType;
export const AgentService = proto.slipway.v1.Agent.service;
export const AgentClientCtor = proto.slipway.v1.Agent;
