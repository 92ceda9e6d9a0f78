#!/usr/bin/env node
// slipway: the coordinator CLI. Each command lives in commands/<name>.ts; this
// file only assembles them and sets the exit code.
import { Command, CommanderError } from 'commander';
import { SLIPWAY_VERSION } from '../common/package-info.js';
import { register as registerBuild } from './commands/build.js';
import { register as registerInit } from './commands/init.js';
import { register as registerDeploy } from './commands/deploy.js';
import { register as registerStatus } from './commands/status.js';
import { register as registerRollback } from './commands/rollback.js';
import { register as registerControl } from './commands/control.js';
import { register as registerPing } from './commands/ping.js';
import { EXIT_USAGE } from './errors.js';

const program = new Command('slipway')
  .description('Deploy versioned releases to long-lived servers and swap them in place.')
  .version(SLIPWAY_VERSION)
  .option('-c, --config <file>', 'the app\'s slipway.yaml', 'slipway.yaml')
  .option('--json', 'print a documented JSON object (see docs/json-output.md) instead of tables')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

registerInit(program);
registerBuild(program);
registerDeploy(program);
registerRollback(program);
registerStatus(program);
registerControl(program);
registerPing(program);

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    throw err;
  }
}
