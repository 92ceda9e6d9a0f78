// What should be on a host after `slipway setup`, made on this machine: the
// agent executable, the systemd unit, agent.yaml, the CA, the host's own
// certificate and key (issued from the CA on first need, kept in
// CERTS/agents/), and the public half of the release signing key.
import { createHash, createPublicKey } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SlipwayError } from '../../common/errors.js';
import { keyIdOf, readPrivateKey } from '../../common/signing.js';
import { issue, CA_FILE } from '../certs.js';
import type { EnvironmentConfig, LoadedConfig } from '../config.js';
import { UNAME, type DesiredFile } from './plan.js';
import { REMOTE } from './remote.js';
import { perAppUserName } from '../../common/app-user-name.js';
import { elfArch } from '../../common/elf.js';

export { elfArch };

/** The host part of an environment's NAME:PORT (brackets of an IPv6 address dropped) and the port. */
export function splitHost(host: string): { name: string; port: number } {
  const i = host.lastIndexOf(':');
  return { name: host.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(host.slice(i + 1)) };
}

/** A file of the slipway package (found by walking up to its package.json: from the sources and from dist/). */
export function packageFile(rel: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'slipway') return join(dir, rel);
    } catch { /* keep walking */ }
    dir = dirname(dir);
  }
  return resolve(rel);
}

function configError(msg: string): SlipwayError {
  return new SlipwayError('SLIPWAY_ERR_CONFIG', msg);
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** One build of the agent executable: setup.agent_bin, or each CPU's when it names them with {arch}. */
export interface AgentExe {
  file: string;
  sha256: string;
  /** From its ELF header: x64, arm64. */
  arch: string;
}

export interface SetupInputs {
  /** At least one; a host gets the one for its CPU (pickExe). */
  exes: AgentExe[];
  unit: Buffer;
  launcher: Buffer;
  caDir: string;
  ca: Buffer;
  trustedKey: { name: string; pem: Buffer };
  http: string | false;
  /** setup.app_users: per_app: the agent runs each app as its own user; this app's (slipway.yaml's) is made by setup. */
  appUser?: { name: string; app: string };
}

/** Everything that is the same for every host; errors name what is missing and how to make it. */
export async function setupInputs(loaded: LoadedConfig, env: EnvironmentConfig): Promise<SetupInputs> {
  const c = loaded.config;
  const at = (p: string) => resolve(loaded.root, p);
  const exe = process.env.SLIPWAY_AGENT_EXE ? resolve(process.env.SLIPWAY_AGENT_EXE) : c.setup?.agent_bin ? at(c.setup.agent_bin) : packageFile('dist/sea/slipway-agent');
  // {arch} in the path: one build per CPU (a fleet of x86_64 and aarch64 hosts), those that exist.
  const candidates = exe.includes('{arch}') ? AGENT_ARCHES.map((a) => exe.replaceAll('{arch}', a)) : [exe];
  const files = candidates.filter((f) => existsSync(f));
  if (files.length === 0) {
    throw configError(`the agent executable ${candidates.join(' or ')} is missing: build it with npm run build:sea (node scripts/build-sea.mjs --arch arm64 for arm64 hosts; docs/executable.md), or name it in slipway.yaml setup.agent_bin or SLIPWAY_AGENT_EXE`);
  }
  const exes: AgentExe[] = [];
  for (const file of files) {
    const arch = elfArch(file);
    if (exe.includes('{arch}') && arch !== AGENT_ARCHES[candidates.indexOf(file)]) {
      throw configError(`${file} is built for linux-${arch}, but its name says ${AGENT_ARCHES[candidates.indexOf(file)]}: rebuild it (node scripts/build-sea.mjs --arch ARCH --out ${file})`);
    }
    exes.push({ file, sha256: await sha256File(file), arch });
  }
  const tls = env.tls ?? c.tls;
  if (!tls || !('ca' in tls)) throw configError('slipway setup makes agents that require mTLS: give tls: { ca, cert, key } in slipway.yaml (slipway certs init, then slipway certs issue NAME --client)');
  const caDir = c.setup?.certs ? at(c.setup.certs) : dirname(at(tls.ca));
  if (!existsSync(join(caDir, CA_FILE))) throw configError(`no CA in ${caDir}: run slipway certs init --dir ${caDir}, or set setup.certs`);
  if (!c.signing_key) throw configError('slipway setup needs signing_key in slipway.yaml: the agents trust its public key (slipway keys generate keys/release)');
  const pub = createPublicKey(readPrivateKey(at(c.signing_key)));
  const pem = Buffer.from(pub.export({ type: 'spki', format: 'pem' }) as string);
  const unitFile = packageFile('systemd/slipway-agent.service');
  return {
    exes, unit: readFileSync(unitFile), launcher: readFileSync(packageFile('systemd/agent-launcher.sh')), caDir, ca: readFileSync(join(caDir, CA_FILE)),
    trustedKey: { name: `release-${keyIdOf(pub).slice(0, 16)}.pub`, pem }, http: c.setup?.http ?? '127.0.0.1:7071',
    ...(c.setup?.app_users === 'per_app' ? { appUser: { name: perAppUserName(c.app), app: c.app } } : {}),
  };
}

export function agentYaml(name: string, port: number, inp: SetupInputs): string {
  return [
    '# Written by `slipway setup`: the next setup replaces changes made here (put them in slipway.yaml instead).',
    '# Every key: docs/operating.md. Check it: slipway-agent --config /etc/slipway/agent.yaml --check',
    `name: ${JSON.stringify(name)}`,
    `listen: 0.0.0.0:${port}`,
    `http: ${inp.http === false ? 'false' : inp.http}`,
    `state_dir: ${REMOTE.state}`,
    `runtime_dir: ${REMOTE.run}`,
    `tls: { ca: ${REMOTE.etc}/ca.pem, cert: ${REMOTE.etc}/agent.pem, key: ${REMOTE.etc}/agent-key.pem }`,
    `trusted_keys: [${REMOTE.etc}/keys/${inp.trustedKey.name}]`,
    // per_app: each app its own user (made by the agent where it can write /etc, and by setup for this app: the unit's sandbox keeps /etc read-only).
    inp.appUser ? 'app_users: per_app' : 'app_user: slipway',
    '',
  ].join('\n');
}

/** The CPUs an agent executable can be built for (scripts/build-sea.mjs --arch), as setup.agent_bin's {arch}. */
export const AGENT_ARCHES = ['x64', 'arm64'] as const;

/** The executable for a host of `uname -m` UNAME (the only one if the host did not say), or why there is none. */
export function pickExe(exes: AgentExe[], uname: string): AgentExe | string {
  const found = uname ? exes.find((e) => UNAME[e.arch]?.includes(uname)) : exes[0];
  if (found) return found;
  const have = exes.map((e) => `linux-${e.arch}`).join(', ');
  return `the host is ${uname}, the agent executable is ${have} (build one for ${uname}: node scripts/build-sea.mjs --arch ARCH, and name both in setup.agent_bin with {arch}: docs/executable.md)`;
}

/** The executable's entry among a host's files. */
export function exeFile(exe: AgentExe): DesiredFile {
  return { path: REMOTE.bin, mode: '0755', sha256: exe.sha256, source: { file: exe.file }, restarts: true };
}

/** The files of one host but the executable (exeFile, once its CPU is known), issuing its certificate first when CERTS/agents/ has none yet, unless dryRun. */
export async function hostFiles(host: string, inp: SetupInputs, dryRun: boolean): Promise<DesiredFile[]> {
  const { name, port } = splitHost(host);
  const certDir = join(inp.caDir, 'agents');
  const cert = join(certDir, `${name}.pem`);
  const key = join(certDir, `${name}-key.pem`);
  const files: DesiredFile[] = [];
  const add = (path: string, mode: string, data: Buffer) => files.push({ path, mode, sha256: sha(data), source: { data }, restarts: true });
  add(REMOTE.unit, '0644', inp.unit);
  add(REMOTE.launcher, '0755', inp.launcher);
  add(`${REMOTE.etc}/agent.yaml`, '0640', Buffer.from(agentYaml(name, port, inp)));
  add(`${REMOTE.etc}/ca.pem`, '0644', inp.ca);
  add(`${REMOTE.etc}/keys/${inp.trustedKey.name}`, '0644', inp.trustedKey.pem);
  if (!existsSync(cert) || !existsSync(key)) {
    if (dryRun) {
      // Not issued by a dry run: the plan says it would be.
      files.push({ path: `${REMOTE.etc}/agent.pem`, mode: '0644', sha256: 'to-be-issued', source: { data: Buffer.alloc(0) }, restarts: true });
      files.push({ path: `${REMOTE.etc}/agent-key.pem`, mode: '0600', sha256: 'to-be-issued', source: { data: Buffer.alloc(0) }, restarts: true });
      return files;
    }
    await issue(inp.caDir, name, 'agent', { hosts: [name], outDir: certDir });
  }
  add(`${REMOTE.etc}/agent.pem`, '0644', readFileSync(cert));
  add(`${REMOTE.etc}/agent-key.pem`, '0600', readFileSync(key));
  return files;
}
