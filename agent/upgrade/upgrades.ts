// Agent upgrades on this host: an Activate of the reserved app (AGENT_APP)
// unpacks the uploaded build (the store has checked its signature, size and
// digest as for any release), copies it into the launcher's builds dir,
// switches `current` (marker first) and restarts the agent, so that the
// launcher runs the new build. At the next start, afterStart() records what
// the launcher did meanwhile (a switch back) and confirms a new build once it
// has re-attached and its health endpoint answers.
import { accessSync, constants } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { SlipwayError } from '../../common/errors.js';
import { elfArch } from '../../common/elf.js';
import { sha256Problem, versionProblem } from '../../common/names.js';
import { AGENT_APP, AGENT_CONFIRM_DEADLINE_S, AGENT_HISTORY, AGENT_ROLLBACK_REASON } from '../../common/agent-build.js';
import { AgentHome, INSTALLED, versionOfRef, type BuildRef } from './home.js';
import { testPause } from './test-pause.js';
import { runsAsSingleExecutable } from '../worker-file.js';
import type { Releases } from '../storage/releases.js';
import type { History } from '../history.js';
import type { Logger } from '../logger.js';
import type { Emit } from '../runtime/strategies/strategy.js';

export interface AgentUpgradeRequest {
  version: string;
  sha256: string;
  reason: string;
  requested_by: string;
}

export interface AgentUpgradeDeps {
  releases: Pick<Releases, 'ensureUnpacked' | 'remove' | 'list'>;
  history: Pick<History, 'append' | 'read'>;
  log: Logger;
  /** This agent's version (what it reports). */
  version: string;
  /** Ends this agent so that its launcher starts the build `current` names (main.ts: stop, then exit). */
  restart: (why: string) => void;
  /** Builds kept besides current and previous. */
  keep: number;
  /** Replaces a supervising process of another build with one of this build (SupervisedRunner.upgradeSupervisor); what was done. */
  upgradeSupervisor?: () => Promise<string>;
  /** The launcher's home and the build this agent runs (AgentHome.fromEnv); undefined: not started through the launcher. */
  self: { home: AgentHome; running: BuildRef } | undefined;
  now?: () => Date;
  /** Whether this agent is the single executable (default: agent/worker-file.ts's runsAsSingleExecutable); tests. */
  runsExecutable?: boolean;
  /** Whether a node is there to run a bundle (default: SLIPWAY_NODE or node on PATH); tests. */
  nodeAvailable?: () => boolean;
}

const upgradeError = (msg: string) => new SlipwayError('SLIPWAY_ERR_AGENT_UPGRADE', msg);

export type ProgramKind = 'executable' | 'bundle';

/** The programs an unpacked agent build holds: bin/slipway-agent (the single executable), bin/slipway-agent.mjs (the bundle). */
async function programsOf(dir: string): Promise<ProgramKind[]> {
  const out: ProgramKind[] = [];
  for (const [kind, file] of [['executable', 'bin/slipway-agent'], ['bundle', 'bin/slipway-agent.mjs']] as const) {
    try {
      if ((await stat(join(dir, file))).isFile()) out.push(kind);
    } catch { /* not there */ }
  }
  return out;
}

/**
 * Which program of a build this host keeps: the kind it runs when the build
 * has it; else the one there is, except a bundle where the single executable
 * runs and no node is there to run it, and an executable built for another
 * CPU (undefined: refused). Pure.
 */
export function pickProgram(programs: readonly ProgramKind[], runsExecutable: boolean, nodeThere: () => boolean, executableFits: () => boolean = () => true): ProgramKind | undefined {
  const exe = programs.includes('executable') && executableFits();
  const bundle = programs.includes('bundle') && (!runsExecutable || nodeThere());
  if (runsExecutable && exe) return 'executable';
  if (!runsExecutable && programs.includes('bundle')) return 'bundle';
  if (exe) return 'executable';
  if (bundle) return 'bundle';
  return undefined;
}

/** The CPU a build's single executable is for; a file that is not ELF runs nowhere as one. */
function executableArch(file: string): string {
  try {
    return elfArch(file);
  } catch {
    return 'unknown (not an ELF file)';
  }
}

/** Whether a node runs a bundle here: the launcher's SLIPWAY_NODE, or node on PATH. */
function nodeAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  const candidates = env.SLIPWAY_NODE ? [env.SLIPWAY_NODE] : (env.PATH ?? '').split(':').filter(Boolean).map((d) => join(d, 'node'));
  return candidates.some((f) => {
    try {
      accessSync(f, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export class AgentUpgrades {
  private busy = false;

  constructor(private readonly deps: AgentUpgradeDeps) {}

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }

  /** An Activate of AGENT_APP: an upgrade to (version, sha256), or with AGENT_ROLLBACK_REASON back to the previous build. */
  async activate(req: AgentUpgradeRequest, emit: Emit, signal: AbortSignal): Promise<void> {
    const self = this.deps.self;
    if (!self) {
      throw upgradeError('this agent was not started through its launcher (systemd/agent-launcher.sh), so a bad build could not undo itself; install the unit of this slipway version (slipway setup ENV, or systemd/install.sh) and restart the agent, then upgrade');
    }
    if (this.busy) throw new SlipwayError('SLIPWAY_ERR_BUSY', 'an agent upgrade is already under way on this host');
    const pending = await self.home.marker();
    if (pending) {
      throw upgradeError(`the upgrade to ${pending.to_version || pending.to} is not confirmed yet; it confirms or switches back within ${AGENT_CONFIRM_DEADLINE_S} s of its switch (${new Date(pending.switched_at * 1000).toISOString()}); try again then`);
    }
    this.busy = true;
    try {
      if (req.reason === AGENT_ROLLBACK_REASON) await this.rollback(self, req, emit);
      else await this.upgrade(self, req, emit, signal);
    } finally {
      this.busy = false;
    }
  }

  private async upgrade(self: { home: AgentHome; running: BuildRef }, req: AgentUpgradeRequest, emit: Emit, signal: AbortSignal): Promise<void> {
    const problem = versionProblem(req.version) ?? sha256Problem(req.sha256);
    if (problem) throw new SlipwayError('SLIPWAY_ERR_BAD_REQUEST', problem);
    const name = `${req.version}-${req.sha256.slice(0, 12)}`;
    const to: BuildRef = `builds/${name}`;
    const current = await self.home.link('current');
    if (current === to && self.running === to) {
      emit('done', { message: `agent ${req.version} runs already; nothing to do` });
      return;
    }
    const release = await this.deps.releases.ensureUnpacked(AGENT_APP, req.version, req.sha256, () => emit('unpacking'), signal);
    await testPause('unpack');
    const programs = await programsOf(release.dir);
    if (programs.length === 0) {
      throw new SlipwayError('SLIPWAY_ERR_BAD_RELEASE', `${AGENT_APP} ${req.version} holds neither bin/slipway-agent nor bin/slipway-agent.mjs: it is not an agent build (make one with slipway agent upgrade --to FILE)`);
    }
    const exeArch = programs.includes('executable') ? executableArch(join(release.dir, 'bin', 'slipway-agent')) : process.arch;
    const kind = pickProgram(programs, this.deps.runsExecutable ?? runsAsSingleExecutable(), this.deps.nodeAvailable ?? nodeAvailable, () => exeArch === process.arch);
    if (kind === undefined && exeArch !== process.arch) {
      throw new SlipwayError('SLIPWAY_ERR_BAD_RELEASE', `${AGENT_APP} ${req.version} holds a single executable built for linux-${exeArch}, and this host is linux-${process.arch}; send a build for this CPU (node scripts/build-sea.mjs --arch ${process.arch}, then slipway agent upgrade ENV --to it)`);
    }
    if (kind === undefined) {
      throw new SlipwayError('SLIPWAY_ERR_BAD_RELEASE', `${AGENT_APP} ${req.version} holds only the bundle (bin/slipway-agent.mjs), and this host runs the single executable with no node to run a bundle (SLIPWAY_NODE, or node on PATH); send a build with the single executable (slipway agent upgrade ENV --to path/to/slipway-agent, built by npm run build:sea)`);
    }
    // A release with both programs: this host keeps the one it runs (the launcher runs bin/slipway-agent when it is there).
    await self.home.install(name, release.dir, programs.length > 1 ? (kind === 'executable' ? 'bin/slipway-agent.mjs' : 'bin/slipway-agent') : undefined);
    signal.throwIfAborted();
    await this.switchTo(self, to, req.version, AGENT_HISTORY.switched, req, emit);
  }

  private async rollback(self: { home: AgentHome; running: BuildRef }, req: AgentUpgradeRequest, emit: Emit): Promise<void> {
    if (!(await self.home.hasPrevious())) throw upgradeError('this host has no previous agent build to go back to (it was never upgraded through slipway agent upgrade)');
    const to = await self.home.link('previous');
    const current = await self.home.link('current');
    if (to === current) throw upgradeError(`the previous agent build is the one that runs (${to})`);
    if (to !== INSTALLED && !(await self.home.hasBuild(to.slice('builds/'.length)))) {
      throw upgradeError(`the previous agent build ${to} is no longer on this host; upgrade to a version instead (slipway agent upgrade ENV --to FILE)`);
    }
    await this.switchTo(self, to, versionOfRef(to) || 'the installed build', AGENT_HISTORY.rollback, req, emit);
  }

  private async switchTo(self: { home: AgentHome }, to: BuildRef, toVersion: string, action: string, req: AgentUpgradeRequest, emit: Emit): Promise<void> {
    const who = req.requested_by;
    const marker = await self.home.switchTo(to, {
      switched_at: Math.floor(this.now().getTime() / 1000), to_version: toVersion, from_version: this.deps.version, who,
    });
    const message = `switched ${marker.from} → ${to}; the agent restarts into it, which must confirm healthy within ${AGENT_CONFIRM_DEADLINE_S} s or the host switches back`;
    this.deps.log.info({ from: marker.from, to, who }, `agent ${action}: ${message}`);
    await this.deps.history.append({ app: AGENT_APP, action, who, from_version: this.deps.version, to_version: toVersion, result: 'done', message });
    await this.pruneBuilds(self.home);
    emit('done', { message });
    // After the answer has gone: the stream ends when this call returns.
    setTimeout(() => { void testPause('restart').then(() => this.deps.restart(`agent ${action} to ${toVersion}`)); }, 100).unref();
  }

  /** Builds beyond `keep` (never current or previous), with their stored tarballs and unpacked releases. */
  private async pruneBuilds(home: AgentHome): Promise<void> {
    const unused = await home.unusedBuilds();
    const stored = await this.deps.releases.list(AGENT_APP);
    for (const name of unused.slice(0, Math.max(0, unused.length - this.deps.keep))) {
      await home.removeBuild(name);
      for (const r of stored.filter((x) => `${x.version}-${x.sha256.slice(0, 12)}` === name)) {
        await this.deps.releases.remove(AGENT_APP, r.version, r.sha256, () => true);
      }
      this.deps.log.info({ build: name }, 'removed an old agent build');
    }
  }

  /**
   * At the agent's start, once it serves and has re-attached to the
   * supervising process: a switch back by the launcher goes into the history;
   * a new build that is this one is confirmed once `healthy()` says so.
   */
  async afterStart(healthy: () => Promise<boolean>): Promise<void> {
    const self = this.deps.self;
    if (!self) return;
    const { home, running } = self;
    const rb = await home.rolledBack();
    if (rb) {
      const message = `the agent build ${rb.from} did not come up healthy (${rb.reason}); the launcher switched back to ${rb.to} at ${new Date(rb.at * 1000).toISOString()}`;
      this.deps.log.warn({ from: rb.from, to: rb.to, attempts: rb.attempts }, message);
      await this.deps.history.append({ app: AGENT_APP, action: AGENT_HISTORY.selfRollback, from_version: versionOfRef(rb.from), to_version: this.deps.version, result: 'failed', message });
      await home.dropRolledBack();
    }
    const m = await home.marker();
    if (!m) await this.recordLostConfirmation(running);
    if (!m || m.to !== running) {
      // No upgrade to confirm; a supervising process of another build (this one came back by a switch back, or the
      // agent was killed between its confirmation and the hand-over) is replaced all the same.
      if (!m) await this.upgradeSupervisor('');
      return;
    }
    await testPause('reattach');
    if (!(await healthy())) {
      this.deps.log.error({ build: running }, 'the upgraded agent does not answer its own health check; not confirming (the launcher switches back at the deadline)');
      return;
    }
    await home.confirm();
    await testPause('confirm');
    const secs = Math.max(0, Math.round(this.now().getTime() / 1000 - m.switched_at));
    const message = `agent ${this.deps.version} confirmed healthy ${secs} s after the switch (start ${m.attempts || 1}); re-attached to the running apps`;
    this.deps.log.info({ build: running, attempts: m.attempts }, message);
    await this.deps.history.append({ app: AGENT_APP, action: AGENT_HISTORY.confirmed, who: m.who, from_version: m.from_version, to_version: this.deps.version, result: 'done', message });
    // Then the supervising process: its holder starts one of this build, which adopts the apps.
    await this.upgradeSupervisor(m.who);
  }

  /**
   * No marker, yet the newest switch in the history has neither a
   * confirmation nor a switch back, and this agent is the build it switched
   * to: the agent before was ended between its confirmation (the marker's
   * removal) and that record. Recorded now, so that the coordinator waiting
   * for a verdict gets one.
   */
  private async recordLostConfirmation(running: BuildRef): Promise<void> {
    const entries = await this.deps.history.read(AGENT_APP, 50);
    let last = -1;
    entries.forEach((e, i) => { if (e.action === AGENT_HISTORY.switched || e.action === AGENT_HISTORY.rollback) last = i; });
    if (last < 0) return;
    const sw = entries[last];
    if (entries.slice(last + 1).some((e) => e.action === AGENT_HISTORY.confirmed || e.action === AGENT_HISTORY.selfRollback)) return;
    if (running === INSTALLED || sw.to_version !== this.deps.version || versionOfRef(running) !== this.deps.version) return;
    const message = `agent ${this.deps.version} had confirmed it is healthy, and was ended before it recorded so; recorded at its next start`;
    this.deps.log.info({ build: running }, message);
    await this.deps.history.append({ app: AGENT_APP, action: AGENT_HISTORY.confirmed, who: sw.who, from_version: sw.from_version, to_version: this.deps.version, result: 'done', message });
  }

  /** A supervising process of another build handed over to one of this build; recorded when something was done or failed. */
  private async upgradeSupervisor(who: string): Promise<void> {
    if (!this.deps.upgradeSupervisor) return;
    try {
      const what = await this.deps.upgradeSupervisor();
      this.deps.log.info(what);
      if (!/ already$|cannot replace itself/.test(what)) await this.deps.history.append({ app: AGENT_APP, action: AGENT_HISTORY.supervisor, who, to_version: this.deps.version, result: 'done', message: what });
    } catch (err) {
      const what = `the supervising process was not upgraded: ${(err as Error).message}`;
      this.deps.log.error({ err }, what);
      await this.deps.history.append({ app: AGENT_APP, action: AGENT_HISTORY.supervisor, who, to_version: this.deps.version, result: 'failed', message: what });
    }
  }
}

/** GET /healthz on the agent's own HTTP endpoint (its certificate is not checked: it is this process); up to `tries` times. */
export async function selfHealthy(address: string | undefined, scheme: 'http' | 'https' | undefined, tries = 20): Promise<boolean> {
  if (!address) return true; // no HTTP endpoint (http: false): gRPC serves, which is what is left to check
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(i + 1));
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  for (let n = 0; n < tries; n++) {
    const ok = await new Promise<boolean>((resolve) => {
      const get = scheme === 'https' ? httpsGet : httpGet;
      const req = get({ host: target, port, path: '/healthz', timeout: 2000, rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => { req.destroy(); resolve(false); });
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}
