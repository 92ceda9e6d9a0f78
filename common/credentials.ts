// Longer than ~300 lines on purpose: every credential of both sides (server, client, role check, reload) in one place, so that no other module builds TLS settings.
// The one place that creates gRPC credentials, for both sides.
//
// mTLS: the agent requires a client certificate signed by its CA (TLS does
// that) AND the deployer role (a server interceptor attached to the
// credentials: PERMISSION_DENIED, naming the certificate, before any handler
// runs). The coordinator checks that the agent's certificate names the host
// it dialled and has the agent role. The role is a SAN URI,
// urn:slipway:role:agent or urn:slipway:role:deployer (coordinator/certs.ts
// issues them). `insecure` is for loopback only (both configs refuse it
// elsewhere).
//
// The agent's certificate files are re-read on reload() (SIGHUP and a timer,
// agent/agent.ts): a CertificateProvider feeds grpc-js, which swaps the live
// server's secure context (grpc.experimental.createCertificateProviderServerCredentials),
// so renewed files take effect for new connections without a restart. A
// half-written or mismatched pair is refused and the old one kept.
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { checkServerIdentity as tlsCheckServerIdentity, createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import { SlipwayError } from './errors.js';
import { formatTime } from './time.js';

export type TlsSettings = { insecure: true } | { ca: string; cert: string; key: string };
export type Role = 'agent' | 'deployer';
export const ROLE_URI_PREFIX = 'urn:slipway:role:';

/** Roles named in a subjectAltName string as Node gives it ("URI:urn:slipway:role:agent, DNS:x"). */
export function rolesOf(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  const out: string[] = [];
  for (const part of subjectaltname.split(/,\s*/)) {
    if (part.startsWith(`URI:${ROLE_URI_PREFIX}`)) out.push(part.slice(4 + ROLE_URI_PREFIX.length));
  }
  return out;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export interface PeerIdentity {
  /** false on an insecure connection (loopback experiments): there is no certificate. */
  tls: boolean;
  cn?: string;
  roles: string[];
  fingerprint?: string;
}

type WithAuthContext = { getAuthContext(): { sslPeerCertificate?: PeerCertificate } };

/** Who called, from the client certificate (dependencies.md §2.11). */
export function peerIdentity(call: WithAuthContext): PeerIdentity {
  const ctx = call.getAuthContext();
  const cert = ctx.sslPeerCertificate;
  if (!cert || !cert.subject) return { tls: false, roles: [] };
  return { tls: true, cn: first(cert.subject.CN), roles: rolesOf(cert.subjectaltname), fingerprint: cert.fingerprint256 };
}

/**
 * The role check on every call of every service (the health service too):
 * a certificate without the deployer role gets PERMISSION_DENIED and the
 * handler never runs.
 */
export function requireDeployerRole(onRefused?: (who: PeerIdentity, method: string) => void): grpc.ServerInterceptor {
  return (methodDescriptor, call) => new grpc.ServerInterceptingCall(call, {
    start(next) {
      const who = peerIdentity(call as unknown as WithAuthContext);
      if (who.tls && !who.roles.includes('deployer')) {
        onRefused?.(who, methodDescriptor.path);
        const has = who.roles.length ? `role ${who.roles.join(', ')}` : 'no slipway role';
        call.sendStatus({
          code: grpc.status.PERMISSION_DENIED,
          details: `certificate "${who.cn ?? '?'}" has ${has}; only a deployer certificate may call this agent (slipway certs issue NAME --client)`,
          metadata: new grpc.Metadata(),
        });
        return;
      }
      next();
    },
  });
}

export interface LoadedPair {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  notAfter: Date;
  subject: string;
  fingerprint: string;
}

/** Reads and checks a ca/cert/key triple: parseable, the key belongs to the certificate, the CA signed it. */
export function loadPair(tls: { ca: string; cert: string; key: string }): LoadedPair {
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new CredentialsError(`cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const ca = read('CA certificate (tls.ca)', tls.ca);
  const cert = read('certificate (tls.cert)', tls.cert);
  const key = read('private key (tls.key)', tls.key);
  let x: X509Certificate;
  let caX: X509Certificate;
  try {
    x = new X509Certificate(cert);
  } catch (err) {
    throw new CredentialsError(`${tls.cert} is not a PEM certificate: ${(err as Error).message}`);
  }
  try {
    caX = new X509Certificate(ca);
  } catch (err) {
    throw new CredentialsError(`${tls.ca} is not a PEM certificate: ${(err as Error).message}`);
  }
  let pk;
  try {
    pk = createPrivateKey(key);
  } catch (err) {
    throw new CredentialsError(`${tls.key} is not a PEM private key: ${(err as Error).message}`);
  }
  if (!x.checkPrivateKey(pk)) throw new CredentialsError(`${tls.key} is not the private key of ${tls.cert}`);
  if (!x.checkIssued(caX) || !x.verify(caX.publicKey)) throw new CredentialsError(`${tls.cert} was not signed by the CA in ${tls.ca}`);
  return { ca, cert, key, notAfter: new Date(x.validTo), subject: x.subject.replace(/\n/g, ', '), fingerprint: x.fingerprint256 };
}

/** A CertificateProvider that hands grpc-js whatever reload() last read successfully. */
class ReloadableCertificates implements grpc.experimental.CertificateProvider {
  private caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>();
  private idListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  current: LoadedPair;

  constructor(private readonly tls: { ca: string; cert: string; key: string }) {
    this.current = loadPair(tls);
  }

  /** Re-reads the files; pushes them when they changed. Throws (keeping the old pair) when they are not usable. */
  reload(): { changed: boolean; pair: LoadedPair } {
    const next = loadPair(this.tls);
    const changed = !next.ca.equals(this.current.ca) || !next.cert.equals(this.current.cert) || !next.key.equals(this.current.key);
    if (changed) {
      this.current = next;
      for (const l of this.caListeners) l({ caCertificate: next.ca });
      for (const l of this.idListeners) l({ certificate: next.cert, privateKey: next.key });
    }
    return { changed, pair: this.current };
  }

  addCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(l);
    // Later, not now: grpc-js registers its own watcher only after this returns.
    queueMicrotask(() => l({ caCertificate: this.current.ca }));
  }
  removeCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(l);
  }
  addIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.idListeners.add(l);
    queueMicrotask(() => l({ certificate: this.current.cert, privateKey: this.current.key }));
  }
  removeIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.idListeners.delete(l);
  }
}

export interface AgentServerCredentials {
  credentials: grpc.ServerCredentials;
  /** Re-reads the certificate files (undefined for insecure). */
  reload?: () => { changed: boolean; pair: LoadedPair };
  /** The certificate currently served (undefined for insecure). */
  current?: () => LoadedPair;
}

export function serverCredentials(tls: TlsSettings, onRefused?: (who: PeerIdentity, method: string) => void): AgentServerCredentials {
  if ('insecure' in tls) return { credentials: grpc.ServerCredentials.createInsecure() };
  const provider = new ReloadableCertificates(tls);
  // One provider serves both the CA and the identity (grpc-js 1.14 swaps the
  // two arguments internally; with one object that cannot matter).
  const base = grpc.experimental.createCertificateProviderServerCredentials(provider, provider, true);
  return {
    credentials: grpc.experimental.createServerCredentialsWithInterceptors(base, [requireDeployerRole(onRefused)]),
    reload: () => provider.reload(),
    current: () => provider.current,
  };
}

/** The host part of HOST:PORT / [V6]:PORT. */
export function hostPart(address: string): string {
  const m = /^\[(.+)\](?::\d+)?$/.exec(address);
  if (m) return m[1];
  const i = address.lastIndexOf(':');
  return i > 0 && address.indexOf(':') === i ? address.slice(0, i) : address;
}

/** Names and IPs a certificate is for, from its subjectAltName ("DNS:a, IP Address:10.0.0.6"). */
export function certNames(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  return subjectaltname.split(/,\s*/).filter((p) => p.startsWith('DNS:') || p.startsWith('IP Address:')).map((p) => p.slice(p.indexOf(':') + 1));
}

/**
 * The coordinator's check of the agent's certificate: it names the host we
 * dialled (DNS or IP SAN) and it has the agent role. Errors say what the
 * certificate is for instead. The verdict is kept per certificate and host
 * dialled (identityVerdicts), so a fleet whose connections are made again
 * (reconnects, `status --watch`) judges each certificate once.
 */
export function agentIdentityCheck(dialled: string): (hostname: string, cert: PeerCertificate) => Error | undefined {
  const host = hostPart(dialled);
  return (_hostname, cert) => {
    const key = cert.fingerprint256 ? `${cert.fingerprint256} ${host}` : undefined;
    const known = key === undefined ? undefined : identityVerdicts.get(key);
    if (known !== undefined) return known === true ? undefined : new Error(known);
    const problem = identityProblem(host, cert);
    if (key !== undefined) {
      if (identityVerdicts.size >= MAX_IDENTITY_VERDICTS) identityVerdicts.clear();
      identityVerdicts.set(key, problem ?? true);
    }
    return problem === undefined ? undefined : new Error(problem);
  };
}

/** Verdicts of agentIdentityCheck by "fingerprint host": true (accepted) or the problem; bounded. */
const identityVerdicts = new Map<string, true | string>();
const MAX_IDENTITY_VERDICTS = 10_000;

function identityProblem(host: string, cert: PeerCertificate): string | undefined {
  const roles = rolesOf(cert.subjectaltname);
  const cn = first(cert.subject?.CN) ?? '?';
  if (!roles.includes('agent')) {
    return `agent ${host} presented certificate "${cn}" which has ${roles.length ? `role ${roles.join(', ')}` : 'no slipway role'}, not the agent role`;
  }
  if (tlsCheckServerIdentity(host, cert)) {
    const names = certNames(cert.subjectaltname);
    return `agent ${host} presented a certificate for ${names.length ? names.join(', ') : cn}; reissue it with: slipway certs issue ${cn} --agent ${[...names, host].join(',')}`;
  }
  return undefined;
}

/**
 * The coordinator's own certificate, checked before any host is dialled, so
 * that an expired or wrong certificate is named as such rather than showing
 * up as every host being unreachable.
 */
export function ownCertificateProblem(tls: { ca: string; cert: string; key: string }, pair: LoadedPair, now = new Date()): string | undefined {
  const x = new X509Certificate(pair.cert);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1] ?? '?';
  const roles = rolesOf(x.subjectAltName);
  const renew = `issue a new one: slipway certs issue ${cn} --client`;
  if (new Date(x.validTo) <= now) return `certificate for deployer ${cn} expired on ${formatTime(x.validTo)} (${tls.cert}); ${renew}`;
  if (new Date(x.validFrom) > now) return `certificate for deployer ${cn} is not valid before ${formatTime(x.validFrom)} (${tls.cert}); check this machine's clock`;
  if (!roles.includes('deployer')) {
    return `${tls.cert} ("${cn}") has ${roles.length ? `role ${roles.join(', ')}` : 'no slipway role'}; agents accept only deployer certificates: ${renew}`;
  }
  return undefined;
}

export class CredentialsError extends SlipwayError {
  constructor(message: string) {
    super('SLIPWAY_ERR_CREDENTIALS', message);
    this.name = 'CredentialsError';
  }
}

/**
 * The channel credentials for one agent. The TLS context (CA, certificate
 * and key, read and checked once) is shared by every channel made with the
 * same files in this process: a fleet of 1,000 hosts reads and parses them
 * once, not 1,000 times. Only the identity check differs per host.
 */
export function clientCredentials(tls: TlsSettings, dialled = ''): grpc.ChannelCredentials {
  if ('insecure' in tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createFromSecureContext(clientSecureContext(tls), { checkServerIdentity: agentIdentityCheck(dialled) });
}

/** One TLS context per (ca, cert, key) files, made on first use; a failure is not kept (the next call reads the files again). */
const secureContexts = new Map<string, SecureContext>();

/**
 * The coordinator's TLS context for these files; CredentialsError when they
 * are unusable or the certificate is not a valid deployer's. withoutCa: a
 * context that trusts no CA, for a caller that verifies the agent's
 * certificate itself (coordinator/agent-tls.ts).
 */
export function clientSecureContext(tls: { ca: string; cert: string; key: string }, opts: { withoutCa?: boolean } = {}): SecureContext {
  const id = JSON.stringify([tls.ca, tls.cert, tls.key, opts.withoutCa === true]);
  const known = secureContexts.get(id);
  if (known) return known;
  let pair: LoadedPair;
  try {
    pair = loadPair(tls);
  } catch (err) {
    throw new CredentialsError(`tls: ${(err as Error).message}`);
  }
  const problem = ownCertificateProblem(tls, pair);
  if (problem) throw new CredentialsError(problem);
  const ctx = createSecureContext({ ...(opts.withoutCa ? {} : { ca: pair.ca }), cert: pair.cert, key: pair.key });
  secureContexts.set(id, ctx);
  return ctx;
}

/** Keepalive on both sides, so a dead peer is noticed in seconds (dependencies.md §2.10). */
export const KEEPALIVE_OPTIONS = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
} as const;
