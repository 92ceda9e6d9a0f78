// grpc-js reports every TLS failure as UNAVAILABLE with little detail
// (dependencies.md §2.8). When a call fails that way over mTLS, the
// coordinator makes one TLS connection of its own with node:tls, with the same
// files and checks, to learn the real reason and say it in words an
// operator can act on.
import { connect } from 'node:tls';
import { isIP } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { agentIdentityCheck, hostPart, loadPair } from '../common/credentials.js';
import { formatTime } from '../common/time.js';

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** Alerts the agent sends when it refuses our certificate, as OpenSSL names them. */
const REFUSED: Record<string, string> = {
  CERTIFICATE_REQUIRED: 'it requires a client certificate and none was sent',
  UNKNOWN_CA: 'our certificate is not signed by the CA it trusts (is tls.ca the same CA on both sides?)',
  CERTIFICATE_EXPIRED: 'our certificate has expired',
  BAD_CERTIFICATE: 'our certificate is not acceptable to it (wrong CA, wrong key usage or corrupt)',
  UNSUPPORTED_CERTIFICATE: 'our certificate is not meant for client authentication (extendedKeyUsage)',
  CERTIFICATE_REVOKED: 'our certificate was revoked',
  DECRYPT_ERROR: 'our certificate and key do not match',
  HANDSHAKE_FAILURE: 'the TLS handshake failed (no common protocol or cipher)',
};

/** Reasons for the agent's own certificate being refused by us (Node's verify error codes). */
const OURS: Record<string, (cert?: X509Certificate) => string> = {
  CERT_HAS_EXPIRED: (c) => `its certificate expired${c ? ` on ${formatTime(c.validTo)}` : ''}; renew it (slipway certs issue NAME --agent HOSTS --force) and send the agent SIGHUP`,
  CERT_NOT_YET_VALID: (c) => `its certificate is not valid before ${c ? formatTime(c.validFrom) : 'a later date'}; check the clocks`,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: () => 'its certificate is not signed by our CA (tls.ca)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: () => 'its certificate is not signed by our CA (tls.ca)',
  SELF_SIGNED_CERT_IN_CHAIN: () => 'its certificate is not signed by our CA (tls.ca)',
  DEPTH_ZERO_SELF_SIGNED_CERT: () => 'it presented a self-signed certificate, not one from our CA',
  CERT_SIGNATURE_FAILURE: () => 'its certificate signature does not verify against our CA',
  INVALID_PURPOSE: () => 'its certificate is not a server certificate (no serverAuth key usage): is it an agent certificate? (slipway certs issue NAME --agent HOSTS)',
};

/**
 * One TLS connection to `address` with the coordinator's files. Resolves with
 * a sentence that explains a TLS failure, or undefined when TLS is fine (or
 * the host could not be reached at all: the caller's message stands).
 */
export function explainTlsFailure(address: string, tls: { ca: string; cert: string; key: string }, timeoutMs = 3000): Promise<string | undefined> {
  let pair;
  try {
    pair = loadPair(tls);
  } catch (err) {
    return Promise.resolve((err as Error).message);
  }
  const host = hostPart(address);
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const check = agentIdentityCheck(address);
  return new Promise((resolve) => {
    let done = false;
    let peer: X509Certificate | undefined;
    const finish = (why: string | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    const socket = connect({
      host, port, ca: pair.ca, cert: pair.cert, key: pair.key, ALPNProtocols: ['h2'],
      servername: isIP(host) ? undefined : host,
      checkServerIdentity: (name, cert) => {
        try { peer = new X509Certificate(cert.raw); } catch { /* unparsable: said below */ }
        return check(name, cert);
      },
    });
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.once('secureConnect', () => {
      // TLS 1.3: the agent judges our certificate after the handshake; it
      // answers the HTTP/2 preface with SETTINGS if it accepted it, with an
      // alert if not.
      socket.write(HTTP2_PREFACE);
    });
    socket.once('data', () => finish(undefined));
    // Node's TLS server drops a client whose certificate it refuses without
    // an alert: the connection just ends after the handshake. Our own files
    // then tell the likely reason.
    socket.once('end', () => finish(`the agent did not accept our certificate: ${ownHint(pair.cert)}`));
    socket.once('error', (err: NodeJS.ErrnoException & { reason?: string }) => {
      const code = err.code ?? '';
      if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return finish(undefined);
      const alert = /ALERT_([A-Z_]+)$/.exec(code)?.[1];
      if (alert) return finish(`the agent did not accept our certificate: ${REFUSED[alert] ?? alert.toLowerCase().replace(/_/g, ' ')}`);
      const ours = OURS[code];
      if (ours) return finish(`agent ${host}: ${ours(peer)}`);
      if (code === 'ECONNRESET') return finish('the agent closed the connection during the TLS handshake (does it use TLS? is it the slipway agent?)');
      if (/wrong version number|packet length too long/i.test(err.message)) return finish('the agent does not speak TLS on this port (is it configured with tls: { insecure: true }?)');
      return finish(err.message);
    });
  });
}

function ownHint(certPem: Buffer, now = new Date()): string {
  const x = new X509Certificate(certPem);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1] ?? '?';
  if (new Date(x.validTo) <= now) return `our certificate has expired (${cn}, on ${formatTime(x.validTo)})`;
  if (new Date(x.validFrom) > now) return `our certificate is not valid yet (${cn}, from ${formatTime(x.validFrom)}); check the clocks`;
  return `it closed the connection after the handshake; is our certificate (${cn}) from the CA in the agent's tls.ca?`;
}
