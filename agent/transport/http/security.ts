// The HTTP endpoint's security from the agent's config: HTTPS with the
// agent's certificate when http binds beyond loopback (or http_tls: true),
// and the bearer token of http_token_file.
import { readFile } from 'node:fs/promises';
import { hostOf, isLoopback } from '../../config.js';
import type { HttpSecurity } from './server.js';

export interface HttpSecurityConfig {
  http: string;
  http_tls?: boolean;
  http_token_file?: string;
}

/** pair: the agent's certificate (none on an insecure agent). */
export async function httpSecurity(config: HttpSecurityConfig, pair: { cert: Buffer; key: Buffer } | undefined): Promise<HttpSecurity> {
  const wantTls = config.http_tls ?? !isLoopback(hostOf(config.http));
  return { tls: wantTls ? pair : undefined, token: await readHttpToken(config.http_token_file) };
}

/** The token in the file (trimmed), none without a file; throws naming the file when it is unreadable or short. */
export async function readHttpToken(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  let token: string;
  try {
    token = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new Error(`cannot read http_token_file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (token.length < 16) throw new Error(`the token in http_token_file ${file} is shorter than 16 characters; use e.g. openssl rand -hex 32`);
  return token;
}
