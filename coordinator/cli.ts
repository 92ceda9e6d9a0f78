#!/usr/bin/env node
// slipway: the coordinator CLI. Each command lives in commands/<name>.ts; this
// file only assembles them and sets the exit code. Start-up time matters for
// a CLI: only the module of the command being run is loaded (gRPC and the
// config schema cost about 180 ms to load), all of them only for help.
import { Command, CommanderError } from 'commander';
import { SLIPWAY_VERSION } from '../common/package-info.js';
import { EXIT_USAGE } from './errors.js';
import { commandWord } from './command-word.js';

type Module = { register(program: Command): void };

/** Command name → the module that registers it (status and versions share one, as do start, stop, restart and logs). */
const MODULES: Record<string, () => Promise<Module>> = {
  init: () => import('./commands/init.js'),
  build: () => import('./commands/build.js'),
  deploy: () => import('./commands/deploy.js'),
  rollback: () => import('./commands/rollback.js'),
  status: () => import('./commands/status.js'),
  versions: () => import('./commands/status.js'),
  start: () => import('./commands/control.js'),
  stop: () => import('./commands/control.js'),
  restart: () => import('./commands/control.js'),
  logs: () => import('./commands/control.js'),
  ping: () => import('./commands/ping.js'),
  prune: () => import('./commands/prune.js'),
  publish: () => import('./commands/publish.js'),
  certs: () => import('./commands/certs.js'),
  keys: () => import('./commands/keys.js'),
  lock: () => import('./commands/lock.js'),
  unlock: () => import('./commands/lock.js'),
  run: () => import('./commands/run.js'),
  env: () => import('./commands/env.js'),
  history: () => import('./commands/history.js'),
  ui: () => import('./commands/ui.js'),
  setup: () => import('./commands/setup.js'),
  completion: () => import('./commands/completion.js'),
  agent: () => import('./commands/agent.js'),
};

// `slipway status prod | head` closes our stdout early; that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const program = new Command('slipway')
  .description('Deploy versioned releases to long-lived servers and swap them in place.')
  .version(SLIPWAY_VERSION)
  .option('-c, --config <file>', 'the app\'s slipway.yaml', 'slipway.yaml')
  .option('--json', 'print a documented JSON object (see docs/json-output.md) instead of tables')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

/** Registers the command named on the command line (all of them for help) and runs it. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const word = commandWord(args);
  const onlyVersion = word === undefined && (args.includes('--version') || args.includes('-V'));
  // completion walks the whole command tree: every module, as for help.
  const load = word && word !== 'completion' && MODULES[word] ? [MODULES[word]] : onlyVersion ? [] : [...new Set(Object.values(MODULES))];
  const registered = new Set<Module>();
  for (const m of await Promise.all(load.map((f) => f()))) {
    if (registered.has(m)) continue;
    registered.add(m);
    m.register(program);
  }

  try {
    await program.parseAsync();
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
      // Commander has said what was wrong on stderr; a script asking for --json still gets its one object.
      if (err.exitCode !== 0 && args.includes('--json')) {
        const message = err.message.replace(/^error: /, '');
        const { printJson } = await import('./commands/common.js');
        printJson({ ...(word ? { command: word } : {}), ok: false, error: { code: 'SLIPWAY_ERR_USAGE', message, exit_code: EXIT_USAGE } });
      }
    } else {
      throw err;
    }
  }
}

/** Resolves once what was written to the stream has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0) resolve();
    else stream.write('', () => resolve());
  });
}

// No top-level await: the installed `slipway` runs this file as one CommonJS
// bundle with a V8 code cache (scripts/bundle.mjs, coordinator/launcher.ts).
// Once the command has printed its result, the process exits: a connection
// still being attempted to a black-holed host (grpc-js cannot abort a TCP
// connect in progress; the kernel gives up after ~2 minutes) must not hold it.
void main().then(async () => {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit();
});
