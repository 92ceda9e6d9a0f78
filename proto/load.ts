// Loads proto/slipway.proto at run time. The options here and the flags in
// scripts/gen-proto.sh must agree, or the generated types lie.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import type { ProtoGrpcType } from './gen/slipway.js';

// postbuild copies slipway.proto beside the compiled loader, with its
// descriptor as JSON (faster to load than parsing the .proto: the CLI's
// start-up matters); from the sources (tsx) the .proto itself is parsed.
const PROTO = fileURLToPath(new URL('./slipway.proto', import.meta.url));
const DESCRIPTOR = fileURLToPath(new URL('./slipway.json', import.meta.url));
const OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

export const packageDefinition = existsSync(DESCRIPTOR)
  ? protoLoader.fromJSON(JSON.parse(readFileSync(DESCRIPTOR, 'utf8')) as Record<string, unknown>, OPTIONS)
  : protoLoader.loadSync(PROTO, { ...OPTIONS, includeDirs: [dirname(PROTO)] });

export const proto = grpc.loadPackageDefinition(packageDefinition) as unknown as ProtoGrpcType;
export const AgentService = proto.slipway.v1.Agent.service;
export const AgentClientCtor = proto.slipway.v1.Agent;
