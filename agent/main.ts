#!/usr/bin/env node
// slipway-agent --config FILE [--check] [--pretty]
import { Command } from 'commander';
import { loadAgentConfig } from './config.js';
import { ConfigError } from '../common/config-file.js';
import { createLogger } from './logger.js';
import { Agent, AGENT_VERSION } from './agent.js';

const program = new Command('slipway-agent')
  .description('The slipway agent: stores releases, runs apps under a watchdog, swaps versions in place.')
  .version(AGENT_VERSION)
  .requiredOption('-c, --config <file>', 'agent config file (YAML)', process.env.SLIPWAY_AGENT_CONFIG ?? '/etc/slipway/agent.yaml')
  .option('--check', 'validate the config file and exit (0 valid, 2 not)')
  .option('--pretty', 'human-readable logs instead of JSON lines')
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

program.parse();
const opts = program.opts<{ config: string; check?: boolean; pretty?: boolean }>();

let config;
try {
  config = loadAgentConfig(opts.config);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`slipway-agent: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
if (opts.check) {
  process.stdout.write(`${opts.config}: valid (listen ${config.listen}, state_dir ${config.state_dir})\n`);
  process.exit(0);
}

const log = await createLogger({ pretty: opts.pretty });
let agent: Agent;
try {
  agent = await Agent.create(config, log);
  await agent.start();
} catch (err) {
  log.fatal({ err }, `agent could not start: ${(err as Error).message}`);
  process.exit(1);
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    log.info({ sig }, 'shutting down (apps keep running)');
    void agent.stop().finally(() => process.exit(0));
  });
}
process.on('SIGHUP', () => agent.reload());
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
