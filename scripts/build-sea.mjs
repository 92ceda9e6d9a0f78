// Builds `slipway-agent` as one self-contained executable (a Node single
// executable application), so that a host needs no Node of its own:
//
//   npm run build:sea            -> dist/sea/slipway-agent (this machine's arch)
//   node scripts/build-sea.mjs [--arch x64|arm64 | --node PATH] [--out FILE]
//
// What goes in (docs/executable.md says why each):
//   - a copy of the node binary that runs this script (or --node PATH: an
//     official build of Node >= 20.12 for the target architecture, which has
//     the SEA fuse; a distribution's node linked to a shared libnode has not;
//     or --arch ARCH: the official build of this very Node version for linux-ARCH,
//     fetched once from the npm registry's node-linux-ARCH package, whose
//     integrity npm checks, and kept in node_modules/.cache/slipway-sea);
//   - as the injected main script, agent/sea/main.ts bundled as CommonJS: it
//     picks the role (agent, supervising process, `-e`) from the arguments;
//   - as assets, the ES module bundles of the agent, the supervising process
//     and both worker threads (esbuild, as scripts/bundle.mjs makes them, with
//     a banner that needs no file of their own: they run from data: URLs), and
//     the API descriptors (slipway.json, health.json, from scripts/postbuild.mjs).
// Needs `npm run build` first (for dist/proto/*.json) and postject (a
// devDependency) to inject the blob.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const args = process.argv.slice(2);
function opt(name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
const out = resolve(opt('--out') ?? 'dist/sea/slipway-agent');
const work = join(dirname(out), 'build');
const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
const arch = opt('--arch') ?? process.arch;
if (!['x64', 'arm64'].includes(arch)) throw new Error(`--arch ${arch}: the agent is built for x64 or arm64`);
const nodeBin = resolve(opt('--node') ?? (arch === process.arch ? process.execPath : officialNode(arch)));

/** The official linux-ARCH build of the running Node version (the blob's format is this version's). */
function officialNode(a) {
  const v = process.versions.node;
  const dir = resolve('node_modules/.cache/slipway-sea', `node-v${v}-linux-${a}`);
  const bin = join(dir, 'package', 'bin', 'node');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`fetching node-linux-${a}@${v} from the npm registry\n`);
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir, `node-linux-${a}@${v}`], { encoding: 'utf8' }).trim().split('\n').pop();
  execFileSync('tar', ['-xzf', join(dir, tgz), '-C', dir, 'package/bin/node']);
  rmSync(join(dir, tgz), { force: true });
  return bin;
}

for (const f of ['dist/proto/slipway.json', 'dist/proto/health.json']) {
  if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build first`);
}
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// Build-time substitutions for the executable (only in its bundles):
//   proto/{load,health}.ts import ./service.js -> agent/sea/proto-service.ts
//   (descriptors from the assets); common/package-info.ts -> the version
//   written in (there is no package.json beside the executable to read).
const seaPlugin = {
  name: 'slipway-sea',
  setup(b) {
    b.onResolve({ filter: /^\.\/service\.js$/ }, (a) =>
      /[/\\]proto[/\\](load|health)\.ts$/.test(a.importer) ? { path: resolve('agent/sea/proto-service.ts') } : undefined);
    b.onLoad({ filter: /[/\\]common[/\\]package-info\.ts$/ }, () => ({
      contents: `export const SLIPWAY_VERSION = ${JSON.stringify(version)};`, loader: 'ts',
    }));
  },
};

// A data: module has no file: require() resolves from the executable's path
// (only Node's built-in modules are left to resolve: the rest is bundled),
// and import.meta.url is the executable's file URL.
const banner = [
  "import { createRequire as __seaRequire } from 'node:module';",
  "import { pathToFileURL as __seaUrl } from 'node:url';",
  "import { dirname as __seaDir } from 'node:path';",
  'const require = __seaRequire(process.execPath);',
  'const __filename = process.execPath;',
  'const __dirname = __seaDir(__filename);',
  'const __slipwaySeaMetaUrl = __seaUrl(process.execPath).href;',
].join(' ');

const entries = {
  'slipway-agent': 'agent/main.ts',
  supervisor: 'agent/runtime/supervisor/main.ts',
  'unpack-worker': 'agent/storage/unpack/worker.ts',
  'hash-worker': 'agent/storage/hash-worker.ts',
  'host-facts-worker': 'agent/monitoring/host-facts-worker.ts',
};
await build({
  bundle: true, platform: 'node', target: 'node20', minify: true, legalComments: 'none', logLevel: 'warning',
  format: 'esm', outdir: work, outExtension: { '.js': '.mjs' }, banner: { js: banner },
  define: { 'import.meta.url': '__slipwaySeaMetaUrl' },
  entryPoints: entries, plugins: [seaPlugin],
});
await build({
  bundle: true, platform: 'node', target: 'node20', minify: true, legalComments: 'none', logLevel: 'warning',
  format: 'cjs', entryPoints: { launcher: 'agent/sea/main.ts' }, outdir: work, outExtension: { '.js': '.cjs' },
});

const assets = Object.fromEntries(Object.keys(entries).map((e) => [`${e}.mjs`, join(work, `${e}.mjs`)]));
assets['slipway.json'] = resolve('dist/proto/slipway.json');
assets['health.json'] = resolve('dist/proto/health.json');
const blob = join(work, 'sea-prep.blob');
writeFileSync(join(work, 'sea-config.json'), JSON.stringify({
  main: join(work, 'launcher.cjs'), output: blob, disableExperimentalSEAWarning: true,
  // Both off: a code cache or a snapshot would tie the blob to the builder's CPU (cross builds need them off).
  useSnapshot: false, useCodeCache: false, assets,
}, null, 2));
// The blob is made by a node of the same version: the target's own, or for another CPU this one.
const blobMaker = arch === process.arch ? nodeBin : process.execPath;
execFileSync(blobMaker, ['--experimental-sea-config', join(work, 'sea-config.json')], { stdio: ['ignore', 'ignore', 'inherit'] });

rmSync(out, { force: true });
copyFileSync(nodeBin, out);
chmodSync(out, 0o755);
// Without debug symbols the executable is smaller; strip (before the blob goes in) when it is there
// (binutils; for another CPU its cross strip, e.g. binutils-aarch64-linux-gnu's).
const strips = arch === process.arch ? ['strip'] : [`${arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu-strip`, 'strip'];
for (const s of strips) {
  try {
    execFileSync(s, ['--strip-unneeded', out], { stdio: 'ignore' });
    break;
  } catch { /* not there, or not for this CPU: try the next, or keep it as it is */ }
}
const postject = join(dirname(createRequire(import.meta.url).resolve('postject/package.json')), 'dist/cli.js');
execFileSync(process.execPath, [postject, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
// It must run: natively, or for another CPU where an emulator is registered (binfmt_misc, e.g.
// qemu-user-static; scripts/arm64-emulation.sh sets it up); without one, say it was not run.
let ran;
try {
  ran = execFileSync(out, ['-e', 'process.stdout.write(process.arch)'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
} catch (err) {
  if (arch === process.arch) throw err;
  ran = undefined;
}
if (ran !== undefined && ran !== arch) throw new Error(`${out} says it is ${ran}, not ${arch}`);
const sizeMiB = (statSync(out).size / 2 ** 20).toFixed(1);
process.stdout.write(`${out}: slipway-agent ${version}, linux-${arch}, ${sizeMiB} MiB${ran ? '' : ' (not run: no emulator for it here)'}\n`);
