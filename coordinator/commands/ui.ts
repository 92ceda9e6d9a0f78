// slipway ui [ENV...]: a live view of the fleet in a browser, served by this
// process on loopback (coordinator/ui/: the pollers, the HTTP server, the
// page's assets). It talks to the agents with the operator's own
// certificate; the browser talks only to it.
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, environment, type LoadedConfig } from '../config.js';
import { tlsFor, isLoopbackHost } from '../fleet.js';
import { UsageError } from '../errors.js';
import { SLIPWAY_VERSION } from '../../common/package-info.js';
import { LiveFleet, type EnvSource } from '../ui/live.js';
import { UiServer } from '../ui/server.js';
import { action, load, globals, printJson } from './common.js';

export const DEFAULT_LISTEN = '127.0.0.1:7079';

/** host:port (IPv6 in brackets) → its parts; a UsageError naming the problem otherwise. */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65_535) throw new UsageError(`--listen must be HOST:PORT (e.g. 127.0.0.1:7079, [::1]:0), not "${s}"`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

function envSources(loaded: LoadedConfig, names: string[]): EnvSource[] {
  const chosen = names.length > 0 ? names : Object.keys(loaded.config.environments);
  return chosen.map((name) => {
    const env = environment(loaded, name);
    return { name, hosts: [...new Set(env.hosts)], tls: tlsFor(loaded, name, env), deadlineMs: loaded.config.deadline_s * 1000 };
  });
}

function readToken(file: string): string {
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new UsageError(`--token-file ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (token.length < 16 || /\s/.test(token)) throw new UsageError(`the token in ${file} must be at least 16 characters without spaces; make one with: openssl rand -hex 32 > ${file}`);
  return token;
}

export function register(program: Command): void {
  program.command('ui [env...]')
    .description('a live view of the fleet in a browser: versions and states per host and app, rollouts as they run, history, logs')
    .option('--listen <host:port>', 'where to serve the page (port 0: any free port)', DEFAULT_LISTEN)
    .option('--token-file <file>', 'require this token (a file holding it) from browsers; needed to listen beyond loopback')
    .option('--allow-actions', 'let the page roll back, restart, lock and unlock (each asks for confirmation; the same code as the CLI)')
    .option('--interval <s>', 'seconds between two Status calls to one agent while a page is open', '1')
    .addHelpText('after', `
Without ENV every environment of slipway.yaml is shown. The page is read-only
unless --allow-actions is given. While a page is open each agent is asked
for its Status once per --interval over one channel (never two calls at
once; every 10 s while no page is open); a host that does not answer within
deadline_s shows as unreachable. Edits to slipway.yaml's host
lists show without a restart.

Open the printed address in a browser. With --token-file, open
http://HOST:PORT/?token=TOKEN once (it sets a cookie), or send
Authorization: Bearer TOKEN. Ctrl-C stops.

Exit codes: 0 stopped by Ctrl-C, 2 bad usage or config.
Example: slipway ui   |   slipway ui production --listen 127.0.0.1:0`)
    .action(action(async (envNames: string[], opts: { listen: string; tokenFile?: string; allowActions?: boolean; interval: string }, cmd: Command) => {
      const interval = Number(opts.interval);
      if (!Number.isFinite(interval) || interval < 0.2 || interval > 3600) throw new UsageError(`--interval must be a number of seconds from 0.2 to 3600, not ${opts.interval}`);
      const { host, port } = parseListen(opts.listen);
      const loopback = isLoopbackHost(`${host.includes(':') ? `[${host}]` : host}:${port}`);
      const token = opts.tokenFile ? readToken(opts.tokenFile) : undefined;
      if (!loopback && !token) throw new UsageError(`listening on ${host} (beyond loopback) needs --token-file: anyone who reaches the port would see the fleet`);
      const loaded = load(cmd);
      const live = new LiveFleet(interval * 1000);
      live.setEnvs(envSources(loaded, envNames));
      const server = new UiServer({ live, app: loaded.config.app, configFile: loaded.file, allowActions: opts.allowActions === true, token, loopback, intervalMs: interval * 1000, version: SLIPWAY_VERSION });
      let addr;
      try {
        addr = await server.listen(host, port);
      } catch (err) {
        live.close();
        throw new UsageError(`cannot listen on ${opts.listen}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      const url = `http://${shown}:${addr.port}/`;
      if (globals(cmd).json) printJson({ command: 'ui', ok: true, url, envs: live.envNames(), allow_actions: opts.allowActions === true, token_required: token !== undefined });
      else process.stdout.write(`slipway ui: ${url}${token ? '?token=…' : ''} (${live.envNames().join(', ')}; ${opts.allowActions ? 'actions allowed' : 'read-only'}; Ctrl-C to stop)\n`);

      // slipway.yaml edited: new host lists (and credentials) show at once; a broken file keeps what was shown.
      const reload = () => {
        try {
          live.setEnvs(envSources(loadConfig(loaded.file), envNames));
          server.clearNotices();
        } catch (err) {
          const text = `slipway.yaml could not be read again; still showing the last good one: ${String((err as Error).message ?? err)}`;
          process.stderr.write(`${text}\n`);
          server.notice(text);
        }
      };
      watchFile(loaded.file, { interval: 1000 }, (cur, prev) => { if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size) reload(); });

      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      unwatchFile(loaded.file);
      live.close();
      await server.close();
      return 0;
    }));
}
