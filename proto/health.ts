// Loads the standard grpc.health.v1 health.proto, as proto/load.ts loads
// slipway.proto (proto/service.ts). Not through the grpc-health-check
// package: its JS loads a second copy of @grpc/proto-loader at import and
// reads its .proto beside its own __dirname, which a bundled agent does not
// have.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadRoot, serviceDefinition, clientConstructor } from './service.js';

// scripts/postbuild.mjs writes the descriptor as JSON beside the
// compiled loader at build time; from the sources (tsx) the .proto that ships
// in the grpc-health-check package (a devDependency) is parsed instead. Only
// its .proto file is read: none of that package's JS is loaded.

/** Where health/v1/health.proto is: the include dir to load it from. */
export function healthProtoDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('grpc-health-check/package.json')), 'proto');
}

const root = loadRoot(fileURLToPath(new URL('./health.json', import.meta.url)), () => join(healthProtoDir(), 'health/v1/health.proto'));

/** HealthCheckResponse.ServingStatus, as strings (enums: String). SERVICE_UNKNOWN is for Watch only. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
export interface HealthCheckRequest { service: string }
export interface HealthCheckResponse { status: ServingStatus }
export interface HealthListResponse { statuses: Record<string, HealthCheckResponse> }

/** The client constructor: its methods are Check/check, Watch/watch and List/list. */
export const HealthClientCtor = clientConstructor(root, 'grpc.health.v1.Health');
/** The service definition, for server.addService. */
export const HealthService = serviceDefinition(root, 'grpc.health.v1.Health');
