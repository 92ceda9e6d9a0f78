// `slipway certs`: a private CA and the certificates of agents and
// deployers, made with the openssl tool (Node can parse certificates but not
// issue them; no hand-written ASN.1). ECDSA P-256 everywhere.
//
// The role is in the certificate as a SAN URI, urn:slipway:role:agent or
// urn:slipway:role:deployer (common/credentials.ts reads it on both sides):
//   agent     SANs: the role URI, then every host name (DNS) and IP (IP) the
//             coordinator dials; extendedKeyUsage serverAuth, clientAuth.
//             (clientAuth too, so that an agent certificate used as a client
//             reaches the agent's role check and is refused there by name,
//             PERMISSION_DENIED, rather than by an opaque handshake failure.)
//   deployer  SAN: the role URI only; extendedKeyUsage clientAuth. Its CN is
//             the holder's name in locks and history ("ci-1").
// Keys are written 0600 in a 0700 directory's worth of care: created with
// O_EXCL, never overwritten without --force.
import { exists } from '../common/fs-soft.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, writeFile, readFile, chmod, mkdir, rename } from 'node:fs/promises';
import { X509Certificate, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { ROLE_URI_PREFIX, type Role } from '../common/credentials.js';
import { SlipwayError } from '../common/errors.js';

const run = promisify(execFile);

/** usage: the command line asked for something that cannot be done as asked (exit 2); else openssl failed here. */
export class CertError extends SlipwayError {
  constructor(message: string, readonly usage = false) {
    super(usage ? 'SLIPWAY_ERR_USAGE' : 'SLIPWAY_ERR_HOST_SETUP', message);
    this.name = 'CertError';
  }
}

export const CA_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca-key.pem';
export const DEFAULT_DAYS = { ca: 3650, agent: 397, deployer: 397 } as const;

/** Names usable as a CN and a file name: what an operator would call a host or a CI runner. */
export const CERT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export interface Issued {
  cert: string;
  key: string;
  ca: string;
  name: string;
  role: Role | 'ca';
  sans: string[];
  not_after: string;
}

async function openssl(args: string[], cwd?: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new CertError('the openssl tool is needed for slipway certs and is not installed (apt install openssl)');
    throw new CertError(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(0, 3).join(' / ')}`);
  }
}

/** Writes a file that must not exist yet (unless force), with the mode given, atomically. */
async function place(file: string, data: Buffer | string, mode: number, force: boolean): Promise<void> {
  if (!force && await exists(file)) throw new CertError(`${file} exists already; remove it or pass --force`, true);
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode, flag: 'wx' });
  await chmod(tmp, mode);
  await rename(tmp, file);
}

export interface ValidityOverride {
  /** For tests: a certificate valid from..to (e.g. already expired). Uses `openssl ca`. */
  notBefore: Date;
  notAfter: Date;
}

/** Creates the CA: ca.pem (share it) and ca-key.pem (keep it offline). */
export async function initCa(dir: string, opts: { name?: string; days?: number; force?: boolean } = {}): Promise<Issued> {
  const out = resolve(dir);
  await mkdir(out, { recursive: true, mode: 0o700 });
  const caFile = join(out, CA_FILE);
  const keyFile = join(out, CA_KEY_FILE);
  if (!opts.force && (await exists(caFile) || await exists(keyFile))) {
    throw new CertError(`a CA exists already in ${out} (${CA_FILE}); every certificate it signed would stop working with a new one. Pass --force to replace it anyway`, true);
  }
  const work = await mkdtemp(join(tmpdir(), 'slipway-ca-'));
  try {
    const name = opts.name ?? 'slipway CA';
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', String(opts.days ?? DEFAULT_DAYS.ca), '-sha256',
      '-subj', `/O=slipway/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], work);
    await place(keyFile, await readFile(join(work, 'ca-key.pem')), 0o600, opts.force === true);
    await place(caFile, await readFile(join(work, 'ca.pem')), 0o644, opts.force === true);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const x = new X509Certificate(await readFile(caFile));
  return { cert: caFile, key: keyFile, ca: caFile, name: opts.name ?? 'slipway CA', role: 'ca', sans: [], not_after: new Date(x.validTo).toISOString() };
}

/** The SAN entries for an agent's host list: DNS for names, IP for addresses; a port is dropped. */
export function agentSans(hosts: string[]): string[] {
  const out: string[] = [];
  for (const raw of hosts) {
    let h = raw.trim();
    if (!h) continue;
    const bracket = /^\[(.+)\](:\d+)?$/.exec(h);
    if (bracket) h = bracket[1];
    else if (/^[^:]+:\d+$/.test(h)) h = h.slice(0, h.lastIndexOf(':'));
    if (isIP(h)) out.push(`IP:${h}`);
    else if (/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(h)) out.push(`DNS:${h.toLowerCase()}`);
    else throw new CertError(`"${raw}" is neither a host name nor an IP address`, true);
  }
  if (out.length === 0) throw new CertError('--agent needs at least one host name or IP (the names the coordinator dials)', true);
  return [...new Set(out)];
}

/** Issues a certificate signed by the CA in `dir`: NAME.pem and NAME-key.pem. */
export async function issue(dir: string, name: string, role: Role, opts: { hosts?: string[]; days?: number; force?: boolean; validity?: ValidityOverride; outDir?: string } = {}): Promise<Issued> {
  if (!CERT_NAME_RE.test(name)) throw new CertError(`"${name}" is not a usable certificate name: 1 to 63 of A-Z, a-z, 0-9, _, . and -`, true);
  const caDir = resolve(dir);
  const caFile = join(caDir, CA_FILE);
  const caKey = join(caDir, CA_KEY_FILE);
  if (!await exists(caFile) || !await exists(caKey)) {
    throw new CertError(`no CA in ${caDir} (${CA_FILE} and ${CA_KEY_FILE}); run: slipway certs init${dir === 'certs' ? '' : ` --dir ${dir}`}`, true);
  }
  const out = resolve(opts.outDir ?? caDir);
  await mkdir(out, { recursive: true, mode: 0o700 });
  const certFile = join(out, `${name}.pem`);
  const keyFile = join(out, `${name}-key.pem`);
  if (!opts.force) {
    for (const f of [certFile, keyFile]) if (await exists(f)) throw new CertError(`${f} exists already; pass --force to replace it (for a renewal)`, true);
  }
  const sans = [`URI:${ROLE_URI_PREFIX}${role}`, ...(role === 'agent' ? agentSans(opts.hosts ?? []) : [])];
  const ext = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    `extendedKeyUsage=${role === 'agent' ? 'serverAuth,clientAuth' : 'clientAuth'}`,
    `subjectAltName=${sans.join(',')}`,
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
  ].join('\n');
  const work = await mkdtemp(join(tmpdir(), 'slipway-cert-'));
  try {
    await writeFile(join(work, 'ext.cnf'), `${ext}\n`);
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', 'key.pem', '-out', 'req.csr', '-subj', `/O=slipway/OU=${role}/CN=${name}`], work);
    const serial = `0x${randomBytes(16).toString('hex').replace(/^[89a-f]/, '1')}`;
    if (opts.validity) {
      await signWithCa(work, caFile, caKey, serial, opts.validity);
    } else {
      await openssl(['x509', '-req', '-in', 'req.csr', '-CA', caFile, '-CAkey', caKey, '-set_serial', serial,
        '-days', String(opts.days ?? DEFAULT_DAYS[role]), '-sha256', '-extfile', 'ext.cnf', '-out', 'cert.pem'], work);
    }
    await place(keyFile, await readFile(join(work, 'key.pem')), 0o600, opts.force === true);
    await place(certFile, await readFile(join(work, 'cert.pem')), 0o644, opts.force === true);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const x = new X509Certificate(await readFile(certFile));
  return { cert: certFile, key: keyFile, ca: caFile, name, role, sans, not_after: new Date(x.validTo).toISOString() };
}

/** `openssl ca`, the one tool that takes explicit start and end dates (tests: expired certificates). */
async function signWithCa(work: string, caFile: string, caKey: string, serial: string, v: ValidityOverride): Promise<void> {
  const stamp = (d: Date) => `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
  await writeFile(join(work, 'index.txt'), '');
  await writeFile(join(work, 'serial'), `${serial.slice(2).toUpperCase()}\n`);
  await writeFile(join(work, 'ca.cnf'), [
    '[ca]', 'default_ca = slipway', '[slipway]', `dir = ${work}`, 'database = $dir/index.txt', 'serial = $dir/serial',
    'new_certs_dir = $dir', 'default_md = sha256', 'policy = any', 'unique_subject = no', 'copy_extensions = none',
    '[any]', 'organizationName = optional', 'organizationalUnitName = optional', 'commonName = supplied', '',
  ].join('\n'));
  await openssl(['ca', '-batch', '-notext', '-config', 'ca.cnf', '-cert', caFile, '-keyfile', caKey, '-in', 'req.csr', '-out', 'cert.pem',
    '-extfile', 'ext.cnf', '-startdate', stamp(v.notBefore), '-enddate', stamp(v.notAfter)], work);
}
