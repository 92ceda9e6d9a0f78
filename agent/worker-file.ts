// Finds and starts the agent's other entry points (worker threads, the
// supervising process). Three layouts:
//   bundled   dist/bin/*.mjs (scripts/bundle.mjs): each entry is one file
//             beside the agent's bundle, named in BUNDLED below;
//   compiled  dist/**/*.js (tsc): the entry's .js beside the caller;
//   sources   .ts under tsx. A worker then gets tsx's hooks from a tiny
//             bootstrap module (execArgv ['--import', 'tsx'] does not take
//             effect in a Node 20 worker: "Unknown file extension .ts").
//   executable  the single executable (agent/sea/main.ts): workers from the
//             embedded bundles as data: URLs, the supervising process is the
//             executable itself (it tells the role by its arguments).
import { Worker, type TransferListItem } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Defined (true) by scripts/bundle.mjs through esbuild's `define`; absent from tsc's output and under tsx. */
declare const SLIPWAY_BUNDLED: boolean | undefined;

/** Entry points of the bundled agent: the file name in dist/bin, per entry. */
export const BUNDLED = { unpackWorker: 'unpack-worker.mjs', hashWorker: 'hash-worker.mjs', hostFactsWorker: 'host-facts-worker.mjs', supervisor: 'supervisor.mjs' } as const;

/** Whether this agent runs as the single executable (agent/sea/main.ts set its asset loader). */
export function runsAsSingleExecutable(): boolean {
  return typeof (globalThis as { slipwaySeaEntry?: unknown }).slipwaySeaEntry === 'function';
}

/**
 * The compiled file of an entry point: in the bundle, `BUNDLED[entry]` beside
 * the bundle (import.meta.url is the bundle's own file there); otherwise
 * `jsUrl`, the caller's `new URL('./x.js', import.meta.url)`.
 */
export function entryUrl(entry: keyof typeof BUNDLED, jsUrl: URL): URL {
  const sea = (globalThis as { slipwaySeaEntry?: (name: string) => string }).slipwaySeaEntry;
  if (sea) return entry === 'supervisor' ? pathToFileURL(process.execPath) : new URL(sea(BUNDLED[entry]));
  return typeof SLIPWAY_BUNDLED !== 'undefined' && SLIPWAY_BUNDLED ? new URL(`./${BUNDLED[entry]}`, import.meta.url) : jsUrl;
}

/** `jsUrl` is the worker's compiled file (from entryUrl); its .ts source runs under tsx when that file is absent. */
export function startWorker(jsUrl: URL, workerData?: unknown, transferList?: TransferListItem[]): Worker {
  if (jsUrl.protocol === 'data:' || existsSync(fileURLToPath(jsUrl))) return new Worker(jsUrl, { workerData, transferList });
  const ts = jsUrl.href.replace(/\.js$/, '.ts');
  const boot = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};\n` +
    `register();\nawait import(${JSON.stringify(ts)});\n`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData, transferList });
}
