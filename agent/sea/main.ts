// The entry of the single executable `slipway-agent` (a Node single
// executable application: scripts/build-sea.mjs). Node 20 runs an injected
// main script as CommonJS, and the agent is ES modules with top-level await,
// so this small launcher (bundled as CommonJS) picks the role from its
// arguments and imports that role's ES module bundle, embedded as an asset of
// the executable, from a data: URL. Roles, as the bundled agent starts them
// with `process.execPath` (which is this executable):
//   slipway-agent ARGS              the agent (agent/main.ts)
//   slipway-agent <itself> ARGS     the supervising process or its holder
//                                   (agent/runtime/supervisor/main.ts): the
//                                   agent runs `node supervisor.mjs ARGS`,
//                                   here the script's path is the executable
//   slipway-agent -e CODE           CommonJS code, as `node -e` (sockets.ts)
// Leading V8 options (--max-semi-space-size=1, given to the supervising
// process) are applied with v8.setFlagsFromString: an executable does not read
// Node's options from its arguments (NODE_OPTIONS still applies).
// Worker threads load their bundles from data: URLs too (agent/worker-file.ts
// asks `globalThis.slipwaySeaEntry`). Nothing is written to disk.
import { getAsset } from 'node:sea';
import { realpathSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import vm from 'node:vm';

/** The embedded ES module bundle `name` (dist/bin/sea/*.mjs) as a data: URL. */
function entryUrl(name: string): string {
  return `data:text/javascript;base64,${Buffer.from(getAsset(name)).toString('base64')}`;
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** Imports a data: URL as an ES module (the injected main script has no import() of its own). */
function importModule(url: string): Promise<unknown> {
  // Node warns that this loader option is experimental, on every start; the executable pins its Node, so it is known to work.
  const emit = process.emitWarning;
  process.emitWarning = ((w: string | Error, ...rest: unknown[]) => {
    if (!String(w).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) (emit as (...a: unknown[]) => void).call(process, w, ...rest);
  }) as typeof process.emitWarning;
  const load = vm.runInThisContext('(url) => import(url)', {
    filename: 'slipway-sea-loader',
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  }) as (u: string) => Promise<unknown>;
  return load(url);
}

const self = process.execPath;
const args = process.argv.slice(2);
while (args[0]?.startsWith('--max-semi-space-size=') || args[0]?.startsWith('--max-old-space-size=')) {
  setFlagsFromString(args.shift() as string);
}
(globalThis as { slipwaySeaEntry?: (name: string) => string }).slipwaySeaEntry = entryUrl;

let entry: string;
if (args[0] === '-e') {
  vm.compileFunction(args[1] ?? '', ['require'], { filename: '[eval]' })(require);
} else {
  if (args[0] !== undefined && args[0].startsWith('/') && sameFile(args[0], self)) {
    // `node supervisor.mjs ARGS`: argv[1] is the script (this executable), as the supervisor and its holder expect.
    entry = 'supervisor.mjs';
    process.argv = [process.argv[0] as string, self, ...args.slice(1)];
  } else {
    entry = 'slipway-agent.mjs';
    process.argv = [process.argv[0] as string, self, ...args];
  }
  importModule(entryUrl(entry)).catch((err: unknown) => {
    process.stderr.write(`slipway-agent: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
}
