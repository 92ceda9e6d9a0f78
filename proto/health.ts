// Loads the standard grpc.health.v1 health.proto, as proto/load.ts loads
// slipway.proto and with the same options. Not through the grpc-health-check
// package: its JS loads a second copy of @grpc/proto-loader at import (about
// 7 MiB of the agent's memory) and reads its .proto beside its own __dirname,
// which a bundled agent does not have.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';

// scripts/health-descriptor.mjs writes the descriptor as JSON beside the
// compiled loader at build time; from the sources (tsx) the .proto that ships
// in the grpc-health-check package (a devDependency) is parsed instead. Only
// its .proto file is read: none of that package's JS is loaded.
const DESCRIPTOR = fileURLToPath(new URL('./health.json', import.meta.url));
const OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

/** Where health/v1/health.proto is: the include dir to load it from. */
export function healthProtoDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('grpc-health-check/package.json')), 'proto');
}

export const healthPackageDefinition = existsSync(DESCRIPTOR)
  ? protoLoader.fromJSON(JSON.parse(readFileSync(DESCRIPTOR, 'utf8')) as Record<string, unknown>, OPTIONS)
  : protoLoader.loadSync('health/v1/health.proto', { ...OPTIONS, includeDirs: [healthProtoDir()] });

/** HealthCheckResponse.ServingStatus, as strings (enums: String). SERVICE_UNKNOWN is for Watch only. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
export interface HealthCheckRequest { service: string }
export interface HealthCheckResponse { status: ServingStatus }
export interface HealthListResponse { statuses: Record<string, HealthCheckResponse> }

const pkg = grpc.loadPackageDefinition(healthPackageDefinition) as unknown as {
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
};
/** The client constructor: its methods are Check/check, Watch/watch and List/list. */
export const HealthClientCtor = pkg.grpc.health.v1.Health;
/** The service definition, for server.addService. */
export const HealthService: grpc.ServiceDefinition = HealthClientCtor.service;
