// `slipway-agent --check` (the unit's ExecStartPre) and the start itself:
// everything the agent needs from the host short of serving, checked the way
// `nginx -t` checks, so that a config that passes is one the agent starts
// with. Each check gives a finding; the caller prints them.
import { X509Certificate } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { loadPair, rolesOf } from '../common/credentials.js';
import { ReleaseVerifier } from './storage/signatures.js';
import { AppUsers } from './runtime/app-users.js';
import { AppPaths, appsDir } from './paths.js';
import { AGENT_APP } from '../common/agent-build.js';
import { hostOf, portOf, type AgentConfig } from './config.js';
import { recordedHolder } from './state-lock.js';
import { formatTime } from '../common/time.js';

export interface Finding {
  ok: boolean;
  /** Not a reason to refuse the start, but worth an operator's look. */
  warn?: boolean;
  /** The config key or the thing checked: "tls.cert", "listen", "state_dir". */
  what: string;
  detail: string;
}

const DAY_MS = 86_400_000;

/** ca/cert/key: readable, a pair, signed by the CA, valid now, carrying the agent role. */
export function tlsFindings(tls: AgentConfig['tls'], now: Date): Finding[] {
  if ('insecure' in tls) return [{ ok: true, what: 'tls', detail: 'insecure (plaintext; allowed on loopback only)' }];
  let pair;
  try {
    pair = loadPair(tls);
  } catch (err) {
    return [{ ok: false, what: 'tls', detail: (err as Error).message }];
  }
  const x = new X509Certificate(pair.cert);
  const out: Finding[] = [];
  const notBefore = new Date(x.validFrom);
  const notAfter = new Date(x.validTo);
  if (notAfter <= now) out.push({ ok: false, what: 'tls.cert', detail: `${tls.cert} expired on ${formatTime(notAfter)}; issue a new one: slipway certs issue NAME --agent HOSTS` });
  else if (notBefore > now) out.push({ ok: false, what: 'tls.cert', detail: `${tls.cert} is not valid before ${formatTime(notBefore)}; check this host's clock` });
  else {
    const days = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
    out.push({ ok: true, what: 'tls.cert', detail: `${tls.cert}: ${pair.subject}, signed by ${tls.ca}, key ${tls.key} matches, valid until ${formatTime(notAfter)} (${days} days)` });
  }
  const roles = rolesOf(x.subjectAltName);
  if (!roles.includes('agent')) {
    out.push({ ok: false, what: 'tls.cert', detail: `${tls.cert} has ${roles.length ? `role ${roles.join(', ')}` : 'no slipway role'}; an agent needs an agent certificate: slipway certs issue NAME --agent HOSTS` });
  }
  return out;
}

export function trustedKeyFindings(config: AgentConfig): Finding[] {
  try {
    const ids = new ReleaseVerifier(config.trusted_keys, config.allow_unsigned).keyIds;
    if (ids.length === 0 && !config.allow_unsigned) return [{ ok: true, warn: true, what: 'trusted_keys', detail: 'empty and allow_unsigned is off: every release will be refused; list the release public keys (slipway keys generate makes them)' }];
    return [{ ok: true, what: 'trusted_keys', detail: ids.length ? `${ids.length} key(s): ${ids.join(', ')}` : 'none (allow_unsigned: true)' }];
  } catch (err) {
    return [{ ok: false, what: 'trusted_keys', detail: (err as Error).message }];
  }
}

/** A file the agent reads: readable now. */
function readable(what: string, file: string | undefined): Finding[] {
  if (!file) return [];
  try {
    readFileSync(file);
    return [{ ok: true, what, detail: `${file} readable` }];
  } catch (err) {
    return [{ ok: false, what, detail: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }];
  }
}

/** A directory the agent writes: writable, or creatable under a writable parent. */
export function writableDir(what: string, dir: string): Finding {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  try {
    if (!statSync(d).isDirectory()) return { ok: false, what, detail: `${d} is not a directory (${what} ${dir})` };
    accessSync(d, constants.W_OK | constants.X_OK);
  } catch (err) {
    return { ok: false, what, detail: `${dir} is not writable by this user (${(err as NodeJS.ErrnoException).code ?? (err as Error).message} on ${d})` };
  }
  return { ok: true, what, detail: d === dir ? `${dir} writable` : `${dir} will be made under ${d}` };
}

/** Whether the address can be bound now (bound and closed at once). */
function bindable(address: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    s.listen({ host: hostOf(address), port: portOf(address), exclusive: true }, () => s.close(() => resolve(undefined)));
  });
}

async function portFindings(config: AgentConfig, runningAgent: number | undefined): Promise<Finding[]> {
  const ports: [string, string | false | undefined][] = [['listen', config.listen], ['http', config.http], ['upload_listen', config.upload_listen]];
  const out: Finding[] = [];
  for (const [what, address] of ports) {
    if (!address) continue;
    const err = await bindable(address);
    if (!err) out.push({ ok: true, what, detail: `${address} free` });
    // The agent that runs on this state dir holds its own ports: checking a config beside it is normal.
    else if (err.code === 'EADDRINUSE' && runningAgent !== undefined) out.push({ ok: true, what, detail: `${address} in use, by the running agent (pid ${runningAgent}) presumably` });
    else out.push({ ok: false, what, detail: `cannot bind ${address}: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (another program listens there; change the port or stop it)' : ''}` });
  }
  return out;
}

/** The apps already on this host (their directories under the state dir). */
async function appsOn(stateDir: string): Promise<string[]> {
  return (await readdir(appsDir(stateDir)).catch(() => [] as string[])).filter((a) => a !== AGENT_APP);
}

/** Every check; `ports: false` at start (the listeners bind for real a moment later). */
export async function preflight(config: AgentConfig, opts: { now?: Date; ports?: boolean } = {}): Promise<Finding[]> {
  const now = opts.now ?? new Date();
  const running = recordedHolder(config.state_dir);
  const out: Finding[] = [
    ...tlsFindings(config.tls, now),
    ...trustedKeyFindings(config),
    ...readable('http_token_file', config.http_token_file),
    ...readable('fetch.ca', config.fetch?.ca),
    ...readable('fetch.auth_header_file', config.fetch?.auth_header_file),
    writableDir('state_dir', config.state_dir),
    ...(config.runtime_dir ? [writableDir('runtime_dir', config.runtime_dir)] : []),
  ];
  const users = new AppUsers(config, { dataDir: (app) => new AppPaths(config.state_dir, app).data });
  out.push(...await users.check(await appsOn(config.state_dir)));
  if (running !== undefined) out.push({ ok: true, what: 'state_dir', detail: `an agent runs on it now (pid ${running}); a second one would refuse to start` });
  if (opts.ports !== false) out.push(...await portFindings(config, running));
  return out;
}

/** The findings as `nginx -t`-style lines. */
export function formatFindings(file: string, findings: Finding[]): string {
  const bad = findings.filter((f) => !f.ok).length;
  return [
    ...findings.map((f) => `${!f.ok ? 'FAIL' : f.warn ? 'warn' : 'ok  '} ${f.what}: ${f.detail}`),
    bad === 0 ? `${file}: valid, and this host has what the agent needs` : `${file}: ${bad} problem(s); the agent would not start`,
    '',
  ].join('\n');
}
