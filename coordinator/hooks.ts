// Deploy hooks: local commands from slipway.yaml's `hooks` run by `slipway
// deploy` on the operator's machine, from the repo root (the directory of
// slipway.yaml), to announce a deploy, take a host out of a load balancer or
// run smoke tests:
//   pre_deploy    before any host is touched; a failure stops the deploy (exit 1)
//   post_deploy   after every host runs the version; a failure makes the exit 1
//   on_failure    when the deploy failed (or was interrupted)
// A hook is a shell command (a string, run with sh -c) or an argv list. Its
// environment has SLIPWAY_HOOK, SLIPWAY_APP, SLIPWAY_ENV, SLIPWAY_VERSION,
// SLIPWAY_SHA256 and SLIPWAY_HOSTS (space-separated host:port); on_failure
// also SLIPWAY_FAILED_HOSTS. Its output is shown on stderr, each line
// prefixed with the hook's name, so that --json output stays clean.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { color } from './output.js';
import { SlipwayError } from '../common/errors.js';

export type HookName = 'pre_deploy' | 'post_deploy' | 'on_failure';
export type HookCommand = string | string[];
export type Hooks = Partial<Record<HookName, HookCommand>>;

export interface HookContext {
  app: string;
  env: string;
  version: string;
  sha256: string;
  hosts: string[];
  /** Where hooks run: the repo root. */
  root: string;
  failedHosts?: string[];
}

export interface HookResult {
  hook: HookName;
  command: string;
  ok: boolean;
  exit_code: number | null;
  signal: string | null;
  seconds: number;
}

export function hookEnv(name: HookName, ctx: HookContext): Record<string, string> {
  const env: Record<string, string> = {
    SLIPWAY_HOOK: name, SLIPWAY_APP: ctx.app, SLIPWAY_ENV: ctx.env, SLIPWAY_VERSION: ctx.version,
    SLIPWAY_SHA256: ctx.sha256, SLIPWAY_HOSTS: ctx.hosts.join(' '),
  };
  if (ctx.failedHosts) env.SLIPWAY_FAILED_HOSTS = ctx.failedHosts.join(' ');
  return env;
}

/** Runs one hook if slipway.yaml sets it; undefined when it does not. */
export function runHook(hooks: Hooks | undefined, name: HookName, ctx: HookContext, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<HookResult | undefined> {
  const cmd = hooks?.[name];
  if (cmd === undefined) return Promise.resolve(undefined);
  const argv = typeof cmd === 'string' ? ['sh', '-c', cmd] : cmd;
  const shown = typeof cmd === 'string' ? cmd : cmd.join(' ');
  write(color.dim(`${name}: ${shown}`));
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: ctx.root, env: { ...process.env, ...hookEnv(name, ctx) }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [child.stdout, child.stderr]) createInterface({ input: s }).on('line', (l) => write(`${color.dim(`${name} |`)} ${l}`));
    const done = (code: number | null, signal: string | null) => {
      const r: HookResult = { hook: name, command: shown, ok: code === 0, exit_code: code, signal, seconds: Math.round(performance.now() - t0) / 1000 };
      if (!r.ok) write(color.bad(`${name} failed (${signal ? `killed by ${signal}` : `exit ${code}`})`));
      resolve(r);
    };
    child.on('error', (err) => {
      write(`${name} |  ${err.message}`);
      done(127, null);
    });
    child.on('close', done);
  });
}

export class HookFailed extends SlipwayError {
  constructor(message: string) {
    super('SLIPWAY_ERR_HOOK_FAILED', message);
    this.name = 'HookFailed';
  }
}

/** What `slipway deploy` calls: pre() before any host is touched, end() once it is over. */
export function deployHooks(hooks: Hooks | undefined, ctx: HookContext) {
  const results: HookResult[] = [];
  return {
    results,
    /** Throws HookFailed (exit 1) when pre_deploy fails. */
    async pre(): Promise<void> {
      const r = await runHook(hooks, 'pre_deploy', ctx);
      if (!r) return;
      results.push(r);
      if (!r.ok) {
        throw new HookFailed(`pre_deploy hook failed (${r.signal ? `killed by ${r.signal}` : `exit ${r.exit_code}`}): ${r.command}; the deploy stopped before any host was touched`);
      }
    },
    /** post_deploy after a success, on_failure after a failure; false when post_deploy failed. */
    async end(ok: boolean, failedHosts: string[]): Promise<boolean> {
      const r = ok ? await runHook(hooks, 'post_deploy', ctx) : await runHook(hooks, 'on_failure', { ...ctx, failedHosts });
      if (r) results.push(r);
      return !ok || !r || r.ok;
    },
  };
}
