// `slipway setup ENV` for every host of the environment, at most
// setup.parallel at once: probe over ssh, plan, send what differs with the
// APPLY script (one ssh call carrying a tarball), then check that the agent
// answers the gRPC health check over mTLS, as `slipway ping` does. A host that
// fails is reported with its reason; the others go on.
import { mkdtemp, rm, writeFile, mkdir, link, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as tar from 'tar';
import { SlipwayError, type ErrorCode } from '../../common/errors.js';
import { AgentConnection } from '../client.js';
import { tlsFor } from '../fleet.js';
import { mapBounded } from '../rollout/bounded.js';
import type { EnvironmentConfig, LoadedConfig } from '../config.js';
import { exeFile, hostFiles, pickExe, splitHost, type SetupInputs } from './desired.js';
import { describeStep, parseProbe, planHost, type DesiredFile } from './plan.js';
import { APPLY, PROBE, REMOTE, UNINSTALL } from './remote.js';
import { ssh, sshReason, SSH_FAILED, type SshTarget, type Pipeable } from './ssh.js';

export interface HostResult {
  host: string;
  ok: boolean;
  /** Something was (or, with --dry-run, would be) changed. */
  changed: boolean;
  /** The plan, as sentences. */
  steps: string[];
  /** What the host's scripts said. */
  output: string[];
  /** The agent answered the health check (not asked on a dry run or uninstall). */
  serving?: boolean;
  error?: { code: ErrorCode; message: string };
}

export interface SetupContext {
  loaded: LoadedConfig;
  envName: string;
  env: EnvironmentConfig;
  inputs?: SetupInputs;
  dryRun: boolean;
  /** Told as each host's state changes (progress on a terminal). */
  progress: (host: string, what: string) => void;
}

/** ssh settings for a host: the environment's over the file's; SLIPWAY_SSH_CONFIG over both for the config file. */
export function sshTarget(ctx: Pick<SetupContext, 'loaded' | 'env'>, host: string): SshTarget {
  const s = { ...ctx.loaded.config.ssh, ...ctx.env.ssh };
  const cfg = process.env.SLIPWAY_SSH_CONFIG ?? (s.config ? resolve(ctx.loaded.root, s.config) : undefined);
  return { host: splitHost(host).name, user: s.user, port: s.port, configFile: cfg };
}

/** Wraps a remote command in `sudo -n` when the login user is not root. */
function asRoot(t: SshTarget, cmd: string): string {
  if (!t.user || t.user === 'root') return cmd;
  return `sudo -n sh -c ${shQuote(cmd)}`;
}

export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function fail(host: string, code: ErrorCode, message: string, partial: Partial<HostResult> = {}): HostResult {
  return { host, ok: false, changed: false, steps: [], output: [], ...partial, error: { code, message } };
}

/** Runs a script given on standard input with arguments (sh -s). */
function runScript(t: SshTarget, script: string, args: string[]) {
  return ssh(t, asRoot(t, `sh -s -- ${args.map(shQuote).join(' ')}`), script);
}

/** The tarball APPLY reads: files/<path> for each file sent, list, all, restart, users (NAME APP lines: per-app users to make), apply.sh. */
async function applyBundle(send: DesiredFile[], all: DesiredFile[], restart: boolean, users: { name: string; app: string }[]): Promise<{ dir: string; stream: Pipeable }> {
  const dir = await mkdtemp(join(tmpdir(), 'slipway-setup-'));
  for (const f of send) {
    const dest = join(dir, 'files', f.path);
    await mkdir(dirname(dest), { recursive: true });
    if ('file' in f.source) await link(f.source.file, dest).catch(() => copyFile((f.source as { file: string }).file, dest));
    else await writeFile(dest, f.source.data, { mode: 0o600 });
  }
  await writeFile(join(dir, 'list'), send.map((f) => `${f.mode} ${f.path}\n`).join(''));
  await writeFile(join(dir, 'all'), all.map((f) => `${f.path}\n`).join(''));
  await writeFile(join(dir, 'restart'), restart ? 'yes\n' : 'no\n');
  await writeFile(join(dir, 'users'), users.map((u) => `${u.name} ${u.app}\n`).join(''));
  await writeFile(join(dir, 'apply.sh'), APPLY);
  const entries = ['list', 'all', 'restart', 'users', 'apply.sh', ...(send.length ? ['files'] : [])];
  return { dir, stream: tar.create({ cwd: dir, gzip: { level: 1 }, portable: true }, entries) };
}

const APPLY_CMD = 'd=$(mktemp -d /tmp/slipway-setup.XXXXXX) && tar -xzf - -C "$d" && sh "$d/apply.sh" "$d"; rc=$?; rm -rf "$d"; exit $rc';

/** Probes, plans and (unless a dry run) applies on one host. */
export async function setupHost(ctx: SetupContext, host: string): Promise<HostResult> {
  const t = sshTarget(ctx, host);
  const inputs = ctx.inputs!;
  let desired: DesiredFile[];
  try {
    desired = await hostFiles(host, inputs, ctx.dryRun);
  } catch (err) {
    return fail(host, err instanceof SlipwayError ? err.code : 'SLIPWAY_ERR_INTERNAL', `issuing its certificate: ${(err as Error).message}`);
  }
  ctx.progress(host, 'probing');
  const p = await runScript(t, PROBE, [REMOTE.bin, ...desired.map((f) => f.path)]);
  if (p.code === SSH_FAILED) return fail(host, 'SLIPWAY_ERR_HOST_UNREACHABLE', `ssh ${t.host}: ${sshReason(p)}`);
  if (p.code !== 0) return fail(host, 'SLIPWAY_ERR_HOST_SETUP', `the probe failed: ${sshReason(p)}`);
  let plan;
  try {
    const probe = parseProbe(p.stdout);
    const exe = pickExe(inputs.exes, probe.arch);
    if (typeof exe === 'string') return fail(host, 'SLIPWAY_ERR_HOST_SETUP', exe);
    desired = [exeFile(exe), ...desired];
    plan = planHost(desired, probe, exe.arch, inputs.appUser ? [inputs.appUser] : []);
  } catch (err) {
    return fail(host, 'SLIPWAY_ERR_HOST_SETUP', (err as Error).message);
  }
  if (typeof plan === 'string') return fail(host, 'SLIPWAY_ERR_HOST_SETUP', plan);
  const steps = plan.steps.map(describeStep);
  if (ctx.dryRun || plan.steps.length === 0) return { host, ok: true, changed: plan.steps.length > 0, steps, output: [] };
  ctx.progress(host, `applying ${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'}`);
  const bundle = await applyBundle(plan.send, desired, plan.restart, inputs.appUser ? [inputs.appUser] : []);
  try {
    const r = await ssh(t, asRoot(t, APPLY_CMD), bundle.stream);
    const output = r.stdout.split('\n').filter(Boolean);
    if (r.code === SSH_FAILED) return fail(host, 'SLIPWAY_ERR_HOST_UNREACHABLE', `ssh ${t.host}: ${sshReason(r)}`, { steps, output });
    if (r.code !== 0) return fail(host, 'SLIPWAY_ERR_HOST_SETUP', `setting up failed: ${sshReason(r)}`, { steps, output, changed: true });
    return { host, ok: true, changed: true, steps, output };
  } finally {
    await rm(bundle.dir, { recursive: true, force: true });
  }
}

/** Waits until the agent answers SERVING over mTLS (the unit may take a moment to start). */
export async function verifyServing(ctx: SetupContext, host: string, timeoutMs = 30_000): Promise<string | undefined> {
  const tls = tlsFor(ctx.loaded, ctx.envName, ctx.env);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const c = new AgentConnection(host, tls, 5000);
    try {
      const h = await c.health();
      if (h.status === 'SERVING') return undefined;
      last = `health status ${h.status}`;
    } catch (err) {
      last = (err as Error).message;
    } finally {
      c.close();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return `the agent did not answer SERVING within ${timeoutMs / 1000} s: ${last} (its log: journalctl -u slipway-agent, or ${REMOTE.state}/agent.log without systemd)`;
}

/** Sets up every host of the environment; outcomes in host order. */
export async function setupAll(ctx: SetupContext, hosts: string[]): Promise<HostResult[]> {
  const parallel = ctx.loaded.config.setup?.parallel ?? 8;
  return mapBounded(hosts, parallel, async (host) => {
    const r = await setupHost(ctx, host).catch((err: unknown) => fail(host, 'SLIPWAY_ERR_INTERNAL', (err as Error).message));
    if (!r.ok || ctx.dryRun) {
      ctx.progress(host, r.ok ? 'planned' : 'failed');
      return r;
    }
    ctx.progress(host, 'checking the agent answers');
    const why = await verifyServing(ctx, host);
    ctx.progress(host, why ? 'failed' : r.changed ? 'set up' : 'unchanged');
    return why ? { ...r, ok: false, serving: false, error: { code: 'SLIPWAY_ERR_HOST_UNREACHABLE', message: why } } : { ...r, serving: true };
  });
}

/** --uninstall on every host of the environment. */
export async function uninstallAll(ctx: SetupContext, hosts: string[], purge: boolean): Promise<HostResult[]> {
  const parallel = ctx.loaded.config.setup?.parallel ?? 8;
  return mapBounded(hosts, parallel, async (host) => {
    const t = sshTarget(ctx, host);
    const steps = ['stop and disable the agent (and its supervising process and apps)', 'remove the files setup installed',
      purge ? `remove ${REMOTE.state}, ${REMOTE.run} and the user slipway` : `keep ${REMOTE.state} and the user slipway`];
    if (ctx.dryRun) return { host, ok: true, changed: true, steps, output: [] };
    ctx.progress(host, 'uninstalling');
    const r = await runScript(t, UNINSTALL, [purge ? 'yes' : 'no']);
    const output = r.stdout.split('\n').filter(Boolean);
    ctx.progress(host, r.code === 0 ? 'uninstalled' : 'failed');
    if (r.code === SSH_FAILED) return fail(host, 'SLIPWAY_ERR_HOST_UNREACHABLE', `ssh ${t.host}: ${sshReason(r)}`, { steps });
    if (r.code !== 0) return fail(host, 'SLIPWAY_ERR_HOST_SETUP', `uninstall failed: ${sshReason(r)}`, { steps, output });
    return { host, ok: true, changed: output.some((l) => /^(stopped|removed)/.test(l)), steps, output };
  });
}
