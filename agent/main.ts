#!/usr/bin/env node
// slipway-agent --config FILE [--check] [--pretty]
import { Command } from 'commander';
import { loadAgentConfig } from './config.js';
import { ConfigError } from '../common/config-file.js';
import { createLogger } from './logger.js';
import { Agent, AGENT_VERSION } from './agent.js';
import { formatFindings, preflight } from './preflight.js';
import { StateDirLock } from './state-lock.js';

// `pidof slipway-agent` and `ps` find the agent by its name, not as one more `node`.
process.title = 'slipway-agent';

const program = new Command('slipway-agent')
  .description('The slipway agent: stores releases, runs apps under a watchdog, swaps versions in place.')
  .version(AGENT_VERSION)
  .requiredOption('-c, --config <file>', 'agent config file (YAML)', process.env.SLIPWAY_AGENT_CONFIG ?? '/etc/slipway/agent.yaml')
  .option('--check', 'check the config and what it names, like nginx -t (files readable, certificate and key a pair signed by the CA and valid now, trusted keys, app_user and app_users, dirs writable, ports free), then exit: 0 ready to start, 2 not')
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
  const findings = await preflight(config);
  process.stdout.write(formatFindings(opts.config, findings));
  process.exit(findings.every((f) => f.ok) ? 0 : 2);
}

const log = await createLogger({ pretty: opts.pretty });
// The checks of --check but the ports (the listeners bind them a moment later): a problem is named, not a stack.
const problems = (await preflight(config, { ports: false })).filter((f) => !f.ok);
if (problems.length > 0) {
  for (const p of problems) log.fatal({ key: p.what }, `agent cannot start: ${p.what}: ${p.detail}`);
  process.stderr.write(formatFindings(opts.config, problems));
  process.exit(2);
}
let lock: StateDirLock;
try {
  lock = await StateDirLock.acquire(config.state_dir);
} catch (err) {
  log.fatal({ err }, (err as Error).message);
  process.stderr.write(`slipway-agent: ${(err as Error).message}\n`);
  process.exit(1);
}
let agent: Agent | undefined;
let stopping = false;
/** Stops serving and exits; the apps keep running. */
const shutdown = (why: Record<string, string>, msg: string) => {
  if (stopping) return;
  stopping = true;
  log.info(why, msg);
  void (agent?.stop() ?? Promise.resolve()).finally(() => { lock.release(); process.exit(0); });
};
try {
  // An agent upgrade's restart: exit, and the launcher (systemd's Restart=always) starts the build `current` names.
  agent = await Agent.create(config, log, { restart: (why) => shutdown({ why }, 'exiting to run the new agent build (apps keep running)') });
  await agent.start();
} catch (err) {
  log.fatal({ err }, `agent could not start: ${(err as Error).message}`);
  process.exit(1);
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => shutdown({ sig }, 'shutting down (apps keep running)'));
}
process.on('SIGHUP', () => agent?.reload());
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
