// After tsc and postbuild: the installed programs as bundles in dist/bin
// (esbuild), each one file with its dependencies, minified.
//   slipway.cjs          the `slipway` command: a small launcher that runs
//   slipway-cli.cjs      the CLI (CommonJS, so that it can run with a V8
//                        code cache: coordinator/code-cache.ts)
//   slipway-agent.mjs    the agent, and beside it its other entry points
//   supervisor.mjs, unpack-worker.mjs, hash-worker.mjs, host-facts-worker.mjs (agent/worker-file.ts)
//   slipway.json, health.json, slipway.proto   the API descriptors
// Why: a bundle loads one file instead of ~400 modules (node_modules'
// sources with their comments stay out of memory: the agent's PSS drops by
// ~7 MiB), and the CLI's start (`slipway status` of 20 hosts) by ~150 ms
// with the code cache. tsc's dist/**/*.js stay for the tests and benches
// that import modules; the bins are the bundles.
import { build } from 'esbuild';
import { copyFileSync, chmodSync, mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';

const OUT = 'dist/bin';
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

const common = {
  bundle: true, platform: 'node', target: 'node20', minify: true, sourcemap: 'linked', legalComments: 'linked',
  logLevel: 'warning', define: { SLIPWAY_BUNDLED: 'true' },
};

// ESM bundles: CommonJS dependencies inside call require() and read
// __dirname / __filename, which an ES module lacks; define them first.
const esmBanner = [
  "import { createRequire as __slipwayRequire } from 'node:module';",
  "import { fileURLToPath as __slipwayPath } from 'node:url';",
  "import { dirname as __slipwayDir } from 'node:path';",
  'const require = __slipwayRequire(import.meta.url);',
  'const __filename = __slipwayPath(import.meta.url);',
  'const __dirname = __slipwayDir(__filename);',
].join(' ');

await build({
  ...common, format: 'esm', outdir: OUT, outExtension: { '.js': '.mjs' }, banner: { js: esmBanner },
  entryPoints: {
    'slipway-agent': 'agent/main.ts',
    supervisor: 'agent/runtime/supervisor/main.ts',
    'unpack-worker': 'agent/storage/unpack/worker.ts',
    'hash-worker': 'agent/storage/hash-worker.ts',
    'host-facts-worker': 'agent/monitoring/host-facts-worker.ts',
  },
});

// CommonJS bundles: import.meta.url (proto/load.ts, common/package-info.ts)
// becomes the bundle's own file URL.
const cjs = {
  ...common, format: 'cjs',
  define: { ...common.define, 'import.meta.url': '__slipwayImportMetaUrl' },
  banner: { js: "const __slipwayImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};
await build({ ...cjs, entryPoints: { 'slipway-cli': 'coordinator/cli.ts' }, outdir: OUT, outExtension: { '.js': '.cjs' } });
await build({ ...cjs, minify: false, sourcemap: false, legalComments: 'inline', entryPoints: { slipway: 'coordinator/launcher.ts' }, outdir: OUT, outExtension: { '.js': '.cjs' } });

// vm.Script (the code cache) has no loader for import(): esbuild turns every
// import() of a bundled module into a require(); any left would fail at run time.
const cli = readFileSync(`${OUT}/slipway-cli.cjs`, 'utf8');
if (/\bimport\(/.test(cli)) throw new Error(`${OUT}/slipway-cli.cjs still calls import(): bundle that module or require() it`);

for (const f of ['slipway.json', 'slipway.proto', 'health.json']) {
  if (existsSync(`dist/proto/${f}`)) copyFileSync(`dist/proto/${f}`, `${OUT}/${f}`);
}
for (const bin of [`${OUT}/slipway.cjs`, `${OUT}/slipway-agent.mjs`]) chmodSync(bin, 0o755);
