// After tsc: writes dist/proto/health.json, the descriptor of the standard
// grpc.health.v1 health.proto, beside the compiled proto/health.js, which
// loads it in place of the .proto (the agent then needs neither the
// grpc-health-check package nor its files at run time). The .proto is the one
// shipped in the grpc-health-check package (a devDependency), read as a file.
// Run from the repository root: node scripts/health-descriptor.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const includeDir = join(dirname(require.resolve('grpc-health-check/package.json')), 'proto');
// protobufjs, which proto/service.ts loads the descriptor with.
const protobuf = require('protobufjs');
// keepCase, as proto/health.ts loads it.
const root = new protobuf.Root().loadSync(join(includeDir, 'health/v1/health.proto'), { keepCase: true });
mkdirSync('dist/proto', { recursive: true });
writeFileSync('dist/proto/health.json', JSON.stringify(root.toJSON()));
