// Starts a worker thread from a module beside the caller: compiled .js in
// dist/, or the .ts source under tsx. For the latter, tsx's hooks are
// registered inside the worker by a tiny bootstrap module (execArgv
// ['--import', 'tsx'] does not take effect in a Node 20 worker: "Unknown file
// extension .ts").
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `jsUrl` is the worker's compiled file, e.g. new URL('./worker.js', import.meta.url). */
export function startWorker(jsUrl: URL, workerData?: unknown): Worker {
  if (existsSync(fileURLToPath(jsUrl))) return new Worker(jsUrl, { workerData });
  const ts = jsUrl.href.replace(/\.js$/, '.ts');
  const boot = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};\n` +
    `register();\nawait import(${JSON.stringify(ts)});\n`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData });
}
