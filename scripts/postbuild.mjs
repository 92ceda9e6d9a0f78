// After tsc: put the .proto beside the compiled loader and make the bins executable.
import { copyFileSync, chmodSync, mkdirSync } from 'node:fs';
mkdirSync('dist/proto', { recursive: true });
copyFileSync('proto/slipway.proto', 'dist/proto/slipway.proto');
for (const bin of ['dist/coordinator/cli.js', 'dist/agent/main.js']) {
  try { chmodSync(bin, 0o755); } catch { /* not built yet */ }
}
