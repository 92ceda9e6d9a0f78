// What the agent-upgrade tests check on every host of their fleet: the app's
// status as the agent reports it, the agent's own version, paced load to each
// host's app with 0 failed requests (or, on failure, what the agent and its
// supervising process logged), and that the apps are the same processes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, appHost, makeAppRepo, cli, type AppRepo } from './env.js';
import { Load } from './load.js';
import type { LocalAgent } from '../../scripts/local-fleet.js';
import type { AppStatus__Output } from '../../proto/gen/slipway/v1/AppStatus.js';

export interface FleetChecks {
  /** The hello app's status on each agent, in the fleet's order. */
  apps(): Promise<AppStatus__Output[]>;
  agentVersion(a: LocalAgent): Promise<string>;
  /** Paced load to each host's app, started. */
  loads(): Load[];
  /** Stops the loads; each ran and none failed. */
  stopLoads(ls: Load[]): Promise<void>;
  /** Every app runs, with the pid, start time and restart count it had before. */
  sameProcesses(before: AppStatus__Output[], after: AppStatus__Output[]): void;
}

/** fleet: the test file's agents and app repo (read when a check runs: they are made in its before()). */
export function fleetChecks(fleet: () => { agents: LocalAgent[]; repo: AppRepo }): FleetChecks {
  const agentVersion = async (a: LocalAgent) => {
    const conn = connect(a);
    try {
      return (await conn.status()).agent?.version ?? '';
    } finally {
      conn.close();
    }
  };
  return {
    agentVersion,
    apps: () => Promise.all(fleet().agents.map(async (a) => {
      const conn = connect(a);
      try {
        return (await conn.status('hello')).apps[0];
      } finally {
        conn.close();
      }
    })),
    loads: () => {
      const { agents, repo } = fleet();
      return agents.map((a) => new Load({ host: appHost(a), port: repo.port, keepAliveClients: 1, freshClients: 1, intervalMs: 25, maxDurationMs: 180_000 }).start());
    },
    stopLoads: async (ls) => {
      const { agents } = fleet();
      await Promise.all(ls.map((l) => l.stop()));
      ls.forEach((l, i) => {
        const s = l.summary();
        assert.ok(s.requests > 20, `load ran (${s.requests} requests)`);
        if (s.failed === 0) return;
        // What the host's agent, supervising process and holder said (they share its log).
        let supervisorLog = '';
        try { supervisorLog = readFileSync(join(agents[i].stateDir, 'supervisor.log'), 'utf8').split('\n').slice(-40).join('\n'); } catch { /* none */ }
        assert.fail(`${agents[i].opts.name}: ${s.failed} failed: ${JSON.stringify(s.failures.slice(0, 3))}\nagent:\n${agents[i].logged('').filter((line) => !line.includes('"level":20')).slice(-30).join('\n')}\nsupervisor.log:\n${supervisorLog}`);
      });
    },
    sameProcesses: (before, after) => {
      const { agents } = fleet();
      after.forEach((s, i) => {
        assert.equal(s.state, 'running');
        assert.equal(s.pid, before[i].pid, `${agents[i].opts.name}: same app pid`);
        assert.equal(s.started_at, before[i].started_at, `${agents[i].opts.name}: same start time`);
        assert.equal(s.restarts, before[i].restarts, `${agents[i].opts.name}: no restart`);
      });
    },
  };
}

/** Starts the fleet's agents and deploys the hello app's 1.0.0 to them; the app repo (made under dir). */
export async function deployFirstRelease(dir: string, agents: LocalAgent[]): Promise<AppRepo> {
  await Promise.all(agents.map((a) => a.start()));
  const repo = await makeAppRepo(dir, agents.map((a) => a.address));
  repo.release('1.0.0', { 'message.txt': 'release 1.0.0\n' });
  assert.equal((await cli(repo.dir, 'build', '1.0.0')).code, 0);
  const d = await cli(repo.dir, 'deploy', 'staging', '1.0.0');
  assert.equal(d.code, 0, d.stdout + d.stderr);
  return repo;
}
