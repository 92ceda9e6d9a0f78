// The slipway.v1 API at run time: service definition for the agent, client
// class for the CLI (proto/service.ts). The conversion there and the flags
// in scripts/gen-proto.sh must agree, or the generated types lie.
import { fileURLToPath } from 'node:url';
import { loadRoot, serviceDefinition, clientConstructor } from './service.js';
import type { AgentClient } from './gen/slipway/v1/Agent.js';
import type * as grpc from '@grpc/grpc-js';

// postbuild copies slipway.proto beside the compiled loader, with its
// descriptor as JSON (faster to load than parsing the .proto: the CLI's
// start-up matters); from the sources (tsx) the .proto itself is parsed.
const root = loadRoot(fileURLToPath(new URL('./slipway.json', import.meta.url)), () => fileURLToPath(new URL('./slipway.proto', import.meta.url)));

export const AgentService = serviceDefinition(root, 'slipway.v1.Agent');
export const AgentClientCtor = clientConstructor(root, 'slipway.v1.Agent') as unknown as new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => AgentClient;
