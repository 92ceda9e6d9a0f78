// After tsc: put the .proto beside the compiled loader, with its descriptor
// as JSON (loading that is about 16 ms faster than parsing the .proto at
// every CLI start), make the bins executable, and bundle them (bundle.mjs).
import { copyFileSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

mkdirSync('dist/proto', { recursive: true });
copyFileSync('proto/slipway.proto', 'dist/proto/slipway.proto');
// protobufjs, which proto/service.ts loads the descriptor with.
const protobuf = createRequire(import.meta.url)('protobufjs');
// keepCase, as proto/service.ts loads the .proto: protobufjs would otherwise camelCase key_id and every snake_case field.
const root = new protobuf.Root().loadSync('proto/slipway.proto', { keepCase: true });
writeFileSync('dist/proto/slipway.json', JSON.stringify(root.toJSON()));
for (const bin of ['dist/coordinator/cli.js', 'dist/agent/main.js']) {
  try { chmodSync(bin, 0o755); } catch { /* not built yet */ }
}
// The grpc.health.v1 descriptor (proto/health.ts), then the installed programs: bundles in dist/bin.
await import('./health-descriptor.mjs');
await import('./bundle.mjs');
