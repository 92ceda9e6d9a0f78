// Talking to every host of an environment: connections with the right
// credentials, and a bounded-concurrency fan-out that never throws (each
// host's outcome is a value).
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { AgentConnection, type HostError } from './client.js';
import { eachHost, type Outcome as HostOutcome } from './rollout/bounded.js';
import { ConfigError } from '../common/config-file.js';
import { UsageError } from './errors.js';
import type { LoadedConfig, EnvironmentConfig } from './config.js';
import type { TlsSettings } from '../common/credentials.js';

export type Outcome<T> = HostOutcome<T, HostError>;

export function isLoopbackHost(host: string): boolean {
  const name = host.slice(0, host.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || (isIP(name) === 4 && name.startsWith('127.'));
}

/** The TLS settings for an environment (its own, else the file's), with paths from the repo root. */
export function tlsFor(loaded: LoadedConfig, envName: string, env: EnvironmentConfig): TlsSettings {
  const tls = env.tls ?? loaded.config.tls;
  if (!tls) {
    throw new ConfigError(loaded.file, [`tls: environment "${envName}" has no TLS settings; give tls: { ca, cert, key } (or tls: { insecure: true } for loopback hosts)`]);
  }
  if ('insecure' in tls) {
    const far = env.hosts.filter((h) => !isLoopbackHost(h));
    if (far.length > 0) {
      throw new ConfigError(loaded.file, [`tls: insecure is only for loopback hosts, and environment "${envName}" has ${far.join(', ')}`]);
    }
    return tls;
  }
  return { ca: resolve(loaded.root, tls.ca), cert: resolve(loaded.root, tls.cert), key: resolve(loaded.root, tls.key) };
}

/**
 * Calls in flight at once for read-only fan-outs (status, ping, versions):
 * enough to hide round trips, few enough that connecting to 1,000 hosts does
 * not queue every handshake behind every other one until the deadline.
 * Each call's deadline starts when that call starts.
 */
export const READ_CONCURRENCY = 64;

/**
 * The hosts of ENV a command acts on: all of them, or those `--host` names
 * (NAME or NAME:PORT); a `--host` that is not in ENV is a usage error (exit 2).
 */
export function selectHosts(envName: string, env: Pick<EnvironmentConfig, 'hosts'>, hostFilter?: string): string[] {
  if (!hostFilter) return env.hosts;
  const hosts = env.hosts.filter((h) => h === hostFilter || h.startsWith(`${hostFilter}:`));
  if (hosts.length === 0) throw new UsageError(`--host ${hostFilter} is not in environment "${envName}", whose hosts are: ${env.hosts.join(', ')}`);
  return hosts;
}

export class Fleet {
  readonly connections: AgentConnection[];

  constructor(readonly hosts: string[], tls: TlsSettings, readonly deadlineMs: number, readonly concurrency = 8) {
    this.connections = hosts.map((h) => new AgentConnection(h, tls, deadlineMs));
  }

  static forEnv(loaded: LoadedConfig, envName: string, env: EnvironmentConfig, hostFilter?: string): Fleet {
    const hosts = selectHosts(envName, env, hostFilter);
    return new Fleet(hosts, tlsFor(loaded, envName, env), loaded.config.deadline_s * 1000, env.concurrency);
  }

  /**
   * Runs fn for each host, at most `concurrency` at a time (each call's
   * deadline starts when that call starts); outcomes in host order, and each
   * to onOutcome as soon as it is known.
   */
  each<T>(fn: (conn: AgentConnection) => Promise<T>, onOutcome?: (o: Outcome<T>, index: number) => void): Promise<Outcome<T>[]> {
    return eachHost<AgentConnection, T, HostError>(this.connections, this.concurrency, fn, onOutcome);
  }

  close(): void {
    for (const c of this.connections) c.close();
  }
}
