// After tsc: put the .protos' descriptors as JSON beside the compiled loaders
// (loading that is about 16 ms faster than parsing a .proto at every CLI
// start), make tsc's bins executable, and bundle the installed programs
// (bundle.mjs).
//   dist/proto/slipway.json   proto/slipway.proto (with the .proto beside it)
//   dist/proto/health.json    the standard grpc.health.v1 health.proto, as it
//                             ships in the grpc-health-check package (a
//                             devDependency: only this file of it is read)
//   dist/ui/                  the page of `slipway ui` (ui/: hand-written HTML, CSS, JS)
import { copyFileSync, chmodSync, mkdirSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// protobufjs, which proto/service.ts loads the descriptors with.
const protobuf = require('protobufjs');
const healthProto = join(dirname(require.resolve('grpc-health-check/package.json')), 'proto/health/v1/health.proto');

mkdirSync('dist/proto', { recursive: true });
copyFileSync('proto/slipway.proto', 'dist/proto/slipway.proto');
for (const [proto, json] of [['proto/slipway.proto', 'dist/proto/slipway.json'], [healthProto, 'dist/proto/health.json']]) {
  // keepCase, as proto/service.ts loads a .proto: protobufjs would otherwise camelCase key_id and every snake_case field.
  writeFileSync(json, JSON.stringify(new protobuf.Root().loadSync(proto, { keepCase: true }).toJSON()));
}
rmSync('dist/ui', { recursive: true, force: true });
cpSync('ui', 'dist/ui', { recursive: true });
for (const bin of ['dist/coordinator/cli.js', 'dist/agent/main.js']) {
  try { chmodSync(bin, 0o755); } catch { /* not built yet */ }
}
await import('./bundle.mjs');
