// After tsc: put the .proto beside the compiled loader, with its descriptor
// as JSON (loading that is about 16 ms faster than parsing the .proto at
// every CLI start), and make the bins executable.
import { copyFileSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

mkdirSync('dist/proto', { recursive: true });
copyFileSync('proto/slipway.proto', 'dist/proto/slipway.proto');
// protobufjs as @grpc/proto-loader itself resolves it, so the descriptor matches what it loads.
const requireFromLoader = createRequire(createRequire(import.meta.url).resolve('@grpc/proto-loader'));
const protobuf = requireFromLoader('protobufjs');
// keepCase, as proto/load.ts loads it: protobufjs would otherwise camelCase key_id and every snake_case field.
const root = new protobuf.Root().loadSync('proto/slipway.proto', { keepCase: true });
writeFileSync('dist/proto/slipway.json', JSON.stringify(root.toJSON()));
for (const bin of ['dist/coordinator/cli.js', 'dist/agent/main.js']) {
  try { chmodSync(bin, 0o755); } catch { /* not built yet */ }
}
