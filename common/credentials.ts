// The one place that creates gRPC credentials, for both sides. mTLS comes
// with the security issue; until then a TLS block with files gives server
// TLS with client certificates required, and insecure is for loopback only.
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';

export type TlsSettings = { insecure: true } | { ca: string; cert: string; key: string };

export function serverCredentials(tls: TlsSettings): grpc.ServerCredentials {
  if ('insecure' in tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    readFileSync(tls.ca),
    [{ private_key: readFileSync(tls.key), cert_chain: readFileSync(tls.cert) }],
    true,
  );
}

export function clientCredentials(tls: TlsSettings): grpc.ChannelCredentials {
  if ('insecure' in tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(readFileSync(tls.ca), readFileSync(tls.key), readFileSync(tls.cert));
}

/** Keepalive on both sides, so a dead peer is noticed in seconds (dependencies.md §2.10). */
export const KEEPALIVE_OPTIONS = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
} as const;
