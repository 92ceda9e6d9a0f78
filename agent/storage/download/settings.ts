// The agent's fetch config (agent.yaml's fetch: section) as a download's
// settings. The CA bundle and the auth header file are read at each fetch,
// so a rotated token or CA takes effect without a restart.
import { readFileSync } from 'node:fs';
import { SlipwayError } from '../../../common/errors.js';
import type { AgentConfig } from '../../config.js';
import type { FetchSettings } from './index.js';

/** Pure: `Name: value` (or a bare token, sent as `Authorization: <token>`) from the file's first non-empty line. */
export function parseAuthHeader(text: string, file: string): [string, string] {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0);
  if (!line) throw new SlipwayError('SLIPWAY_ERR_CONFIG', `fetch.auth_header_file ${file} is empty; write one line like "Authorization: Bearer TOKEN"`);
  const m = /^([A-Za-z0-9-]{1,64}):\s*(.+)$/.exec(line);
  if (!m) return ['authorization', line];
  return [m[1].toLowerCase(), m[2]];
}

function read(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new SlipwayError('SLIPWAY_ERR_CONFIG', `cannot read the agent's ${key} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; fix the agent's config`);
  }
}

export function fetchSettings(config: AgentConfig['fetch']): () => FetchSettings {
  return () => ({
    ca: config.ca ? read(config.ca, 'fetch.ca') : undefined,
    authHeader: config.auth_header_file ? parseAuthHeader(read(config.auth_header_file, 'fetch.auth_header_file').toString('utf8'), config.auth_header_file) : undefined,
    allowHttp: config.allow_http,
    connectMs: config.connect_timeout_s * 1000,
    stallMs: config.stall_s * 1000,
    attempts: config.attempts,
  });
}
