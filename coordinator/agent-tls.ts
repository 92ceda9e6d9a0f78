// The coordinator's TLS to its agents, made for fleets of 1,000 hosts.
//
// One TLS context (our certificate and key, read and checked once) serves
// every channel of the process. The agent's certificate is checked here, not
// by OpenSSL's chain verification plus Node's checkServerIdentity: Node hands
// that check a "detailed" peer certificate (getPeerCertificate(true)), which
// costs ~1 ms of CPU per connection, about as much as the rest of the
// handshake (issue 15's profile: ~18 % of `slipway status`). Here the
// certificate is read as an X509Certificate (about 0.2 ms a connection in a
// CPU profile of a 1,000-host status) and judged once per certificate and host
// dialled:
//   - it is signed by our CA (tls.ca), directly, and the CA is in its validity;
//   - it is within its validity now (checked on every connection);
//   - its extendedKeyUsage, if any, allows serverAuth;
//   - it has the agent role and names the host dialled (agentIdentityCheck's
//     words, common/credentials.ts).
// The handshake itself proves the agent holds the certificate's key (TLS's
// CertificateVerify does not depend on verification). A refusal fails the
// connection with the reason; a call then says UNAVAILABLE and
// AgentConnection.explain() asks tls-probe.ts for the operator's sentence.
//
// grpc-js has no public hook after its TLS connect other than the detailed
// checkServerIdentity, so this is a ChannelCredentials of our own: its
// connector makes the TLS connection on the socket grpc-js opened.
import * as grpc from '@grpc/grpc-js';
import { connect, type SecureContext } from 'node:tls';
import { isIP, type Socket } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { agentIdentityCheck, clientSecureContext, hostPart } from '../common/credentials.js';
import type { TlsSettings } from '../common/credentials.js';
import { formatTime } from '../common/time.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

interface Trust {
  context: SecureContext;
  ca: X509Certificate;
}

/** Per (ca, cert, key) files: the shared context and the CA to judge agents by. */
const trusts = new Map<string, Trust>();

function trustFor(tls: { ca: string; cert: string; key: string }): Trust {
  const id = JSON.stringify([tls.ca, tls.cert, tls.key]);
  let t = trusts.get(id);
  if (!t) {
    // clientSecureContext reads and checks the files (CredentialsError when unusable); the CA is read
    // again here, already known to parse. The context has no CA: verification is ours (above).
    const context = clientSecureContext(tls, { withoutCa: true });
    t = { context, ca: new X509Certificate(readFileSync(tls.ca)) };
    trusts.set(id, t);
  }
  return t;
}

/** Judgements by "fingerprint host": the certificate's validity window when accepted, else the problem. */
const verdicts = new Map<string, { notBefore: number; notAfter: number } | string>();
const MAX_VERDICTS = 10_000;

/** Why the agent's certificate is not acceptable for `host`, or undefined when it is. */
export function agentCertificateProblem(peer: X509Certificate, host: string, ca: X509Certificate, now = Date.now()): string | undefined {
  const key = `${peer.fingerprint256} ${host}`;
  let v = verdicts.get(key);
  if (v === undefined) {
    v = judge(peer, host, ca);
    if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
    verdicts.set(key, v);
  }
  if (typeof v === 'string') return v;
  if (now < v.notBefore) return `agent ${host}: its certificate is not valid before ${formatTime(v.notBefore)}; check the clocks`;
  if (now > v.notAfter) return `agent ${host}: its certificate expired on ${formatTime(v.notAfter)}; renew it (slipway certs issue NAME --agent HOSTS --force) and send the agent SIGHUP`;
  const caEnd = Date.parse(ca.validTo);
  if (now > caEnd) return `our CA (tls.ca) expired on ${formatTime(caEnd)}`;
  return undefined;
}

function judge(peer: X509Certificate, host: string, ca: X509Certificate): { notBefore: number; notAfter: number } | string {
  if (!peer.checkIssued(ca) || !peer.verify(ca.publicKey)) return `agent ${host}: its certificate is not signed by our CA (tls.ca)`;
  const eku = peer.keyUsage;
  if (eku && eku.length > 0 && !eku.includes(SERVER_AUTH)) {
    return `agent ${host}: its certificate is not a server certificate (no serverAuth key usage): is it an agent certificate? (slipway certs issue NAME --agent HOSTS)`;
  }
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(peer.subject)?.[1];
  const asPeer = { subject: cn === undefined ? {} : { CN: cn }, subjectaltname: peer.subjectAltName ?? '' };
  const err = agentIdentityCheck(host)(host, asPeer as Parameters<ReturnType<typeof agentIdentityCheck>>[1]);
  if (err) return err.message;
  return { notBefore: Date.parse(peer.validFrom), notAfter: Date.parse(peer.validTo) };
}

type ConnectorArgs = Parameters<grpc.ChannelCredentials['_createSecureConnector']>;
type Connector = ReturnType<grpc.ChannelCredentials['_createSecureConnector']>;

class AgentChannelCredentials extends grpc.ChannelCredentials {
  constructor(private readonly trust: Trust, private readonly dialled: string) {
    super();
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this || (other instanceof AgentChannelCredentials && other.trust === this.trust && other.dialled === this.dialled);
  }

  _createSecureConnector(_target: ConnectorArgs[0], _options: ConnectorArgs[1], callCredentials?: ConnectorArgs[2]): Connector {
    const { trust } = this;
    const host = hostPart(this.dialled);
    const creds = callCredentials ?? grpc.credentials.createEmpty();
    return {
      connect: (socket: Socket) => new Promise((resolve, reject) => {
        const tlsSocket = connect({
          socket, secureContext: trust.context, ALPNProtocols: ['h2'], minVersion: 'TLSv1.2',
          // No SNI for an IP (RFC 6066); the agent ignores SNI anyway.
          servername: isIP(host) ? undefined : host,
          // Verification is agentCertificateProblem's, below.
          rejectUnauthorized: false,
        }, () => {
          const peer = tlsSocket.getPeerX509Certificate();
          const problem = peer ? agentCertificateProblem(peer, host, trust.ca) : `agent ${host} presented no certificate`;
          if (problem) {
            tlsSocket.destroy();
            reject(new Error(problem));
            return;
          }
          resolve({ socket: tlsSocket, secure: true });
        });
        tlsSocket.on('error', reject);
      }),
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => creds,
      destroy: () => undefined,
    };
  }
}

/** The channel credentials for one agent (insecure for loopback experiments); CredentialsError when our files are unusable. */
export function agentCredentials(tls: TlsSettings, dialled: string): grpc.ChannelCredentials {
  if ('insecure' in tls) return grpc.credentials.createInsecure();
  return new AgentChannelCredentials(trustFor(tls), dialled);
}
