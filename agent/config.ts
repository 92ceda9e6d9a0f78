// The agent's config file (/etc/slipway/agent.yaml), validated with errors
// that name the key. Every key has a default where one is safe.
import * as z from 'zod'; // a namespace import: bundles keep only the parts used (not every locale)
import cron from 'node-cron';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { readConfigFile, ConfigError } from '../common/config-file.js';
import { APP_NAME_RE } from '../common/names.js';

const userName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'not a user name (1 to 32 of a-z, 0-9, _ and -, starting with a letter or _)');
const address = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/, 'an address is HOST:PORT, for example 127.0.0.1:7070 or [::1]:7070');

export const agentConfigSchema = z.strictObject({
  listen: address.default('0.0.0.0:7070'),
  // The health and metrics endpoint (agent/transport/http/); false turns it off. Beyond loopback only when set so.
  http: z.union([address, z.literal(false)]).default('127.0.0.1:7071'),
  // The data port for release uploads (agent/transport/data-port.ts), authorised by BeginUpload.
  // Unset: the host of listen, any free port; false: off (uploads go over gRPC's Upload).
  upload_listen: z.union([address, z.literal(false)]).optional(),
  /** How long a BeginUpload ticket waits for its data connection. */
  upload_ticket_s: z.number().min(1).max(3600).default(60),
  // How often host and app figures are sampled for /metrics, /status and Status (agent/monitoring/host-sampler.ts).
  sample_interval_s: z.number().min(0.1).max(3600).default(10),
  state_dir: z.string().min(1).default('/var/lib/slipway'),
  /** Where the supervising process keeps its socket (/run/slipway under the systemd unit); unset: <state_dir>/run. */
  runtime_dir: z.string().min(1).optional(),
  tls: z.union([
    z.strictObject({ insecure: z.literal(true) }),
    z.strictObject({ ca: z.string().min(1), cert: z.string().min(1), key: z.string().min(1) }),
  ]),
  /** How often the TLS files are re-read (also on SIGHUP), so renewed certificates take effect without a restart. */
  tls_reload_s: z.number().min(1).max(86_400).default(300),
  /** Serve the HTTP endpoint over TLS with the agent's certificate. Default: yes when it binds beyond loopback. */
  http_tls: z.boolean().optional(),
  /** A file holding a bearer token that /status and /metrics then require (/healthz and /readyz stay open). */
  http_token_file: z.string().min(1).optional(),
  // Releases pulled from an artifact store (Fetch; agent/storage/download/): how this host reaches it.
  // HTTPS_PROXY / NO_PROXY in the agent's environment are honoured.
  fetch: z.strictObject({
    /** PEM CA bundle for the store's certificate; unset: the system's roots. */
    ca: z.string().min(1).optional(),
    /** A file holding one `Name: value` line (e.g. `Authorization: Bearer …`), sent to the URL's own origin; re-read at each fetch. */
    auth_header_file: z.string().min(1).optional(),
    /** Take plain http:// store URLs beyond loopback (the sha256 and signature are still checked). */
    allow_http: z.boolean().default(false),
    /** No byte for this long: the connection is dropped and the download resumed with a Range request. */
    stall_s: z.number().min(1).max(3600).default(30),
    /** Requests in a row that bring no byte before a fetch gives up. */
    attempts: z.number().int().min(1).max(100).default(5),
    connect_timeout_s: z.number().min(1).max(600).default(15),
  }).default({ allow_http: false, stall_s: 30, attempts: 5, connect_timeout_s: 15 }),
  app_bind: z.string().refine((h) => isIP(h) !== 0, 'app_bind must be an IP address').optional(),
  trusted_keys: z.array(z.string()).default([]),
  allow_unsigned: z.boolean().default(false),
  /** The user apps run as when the agent is root (all of them, but those app_users names). */
  app_user: userName.optional(),
  /**
   * per_app: each app runs as its own system user, slipway-<app>, made when
   * missing; or a map APP: USER naming the (existing) user of some apps, the
   * others running as app_user (agent/runtime/app-users.ts).
   */
  app_users: z.union([
    z.literal('per_app'),
    z.record(z.string(), userName), // the names of apps: superRefine below says which is not one
  ], { error: 'app_users is per_app, or a map of app names to user names ({ billing: billing-svc })' }).optional(),
  keep_releases: z.number().int().min(1).max(1000).default(5),
  /** When old releases, tarballs, temp leftovers and old logs are removed (node-cron, UTC; agent/storage/prune.ts). */
  prune_schedule: z.string().refine((e) => cron.validate(e), 'not a cron expression (five fields, or six with seconds first)').default('0 * * * *'),
  /** Bytes an upload must leave free on the state dir's file system, beyond twice the release's size. */
  disk_reserve_bytes: z.number().int().min(0).default(512 * 1024 ** 2),
  /** When the agent compares desired and running state and mends it (node-cron, UTC; it also runs at start). */
  reconcile_schedule: z.string().refine((e) => cron.validate(e), 'not a cron expression (five fields, or six with seconds first)').default('* * * * *'),
  name: z.string().min(1).max(253).optional(),
  limits: z.strictObject({
    release_bytes: z.number().int().positive().default(2 * 1024 ** 3),
    entries: z.number().int().positive().default(200_000),
    path_length: z.number().int().positive().default(1024),
    path_depth: z.number().int().positive().default(64),
    log_bytes: z.number().int().positive().default(10 * 1024 ** 2),
    log_files: z.number().int().min(1).max(100).default(5),
  }).default({
    release_bytes: 2 * 1024 ** 3, entries: 200_000, path_length: 1024, path_depth: 64,
    log_bytes: 10 * 1024 ** 2, log_files: 5,
  }),
}).superRefine((c, ctx) => {
  const host = hostOf(c.listen);
  if ('insecure' in c.tls && !isLoopback(host)) {
    ctx.addIssue({
      code: 'custom', path: ['tls', 'insecure'],
      message: `insecure TLS is only allowed when listen is a loopback address, and listen is ${c.listen}; give tls: { ca, cert, key } or listen on 127.0.0.1`,
    });
  }
  if (c.allow_unsigned && !isLoopback(host)) {
    ctx.addIssue({ code: 'custom', path: ['allow_unsigned'], message: `allow_unsigned is only allowed when listen is a loopback address, and listen is ${c.listen}` });
  }
  if (c.http !== false && !isLoopback(hostOf(c.http)) && 'insecure' in c.tls) {
    ctx.addIssue({ code: 'custom', path: ['http'], message: 'the HTTP endpoint may bind beyond loopback only with TLS configured' });
  }
  if (c.upload_listen && !isLoopback(hostOf(c.upload_listen)) && 'insecure' in c.tls) {
    ctx.addIssue({ code: 'custom', path: ['upload_listen'], message: 'the upload data port may bind beyond loopback only with TLS configured' });
  }
  if (c.http_tls === false && c.http !== false && !isLoopback(hostOf(c.http))) {
    ctx.addIssue({ code: 'custom', path: ['http_tls'], message: `http_tls: false is only allowed when http is a loopback address, and http is ${c.http}` });
  }
  if (c.app_users === 'per_app' && c.app_user !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['app_users'], message: `app_users: per_app gives every app its own user, so app_user (${c.app_user}) would name nobody's: remove one of them` });
  }
  for (const app of typeof c.app_users === 'object' ? Object.keys(c.app_users) : []) {
    if (!APP_NAME_RE.test(app)) ctx.addIssue({ code: 'custom', path: ['app_users', app], message: `"${app}" is not an app name (1 to 63 of a-z, 0-9, _ and -, starting with a letter or digit)` });
  }
  if (typeof c.app_users === 'object' && c.app_user === undefined) {
    ctx.addIssue({ code: 'custom', path: ['app_users'], message: 'app_users names the users of some apps; set app_user too, for the apps it does not name (or use app_users: per_app)' });
  }
  if (c.http_tls === true && 'insecure' in c.tls) {
    ctx.addIssue({ code: 'custom', path: ['http_tls'], message: 'http_tls needs the agent\'s certificate: give tls: { ca, cert, key }' });
  }
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;

export function hostOf(addr: string): string {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i);
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

export function portOf(addr: string): number {
  return Number(addr.slice(addr.lastIndexOf(':') + 1));
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Reads and validates the file; relative state_dir and TLS paths are taken from the file's directory. */
export function loadAgentConfig(file: string): AgentConfig {
  const config = readConfigFile(file, agentConfigSchema);
  const base = resolve(file, '..');
  config.state_dir = resolve(base, config.state_dir);
  if (config.runtime_dir !== undefined) config.runtime_dir = resolve(base, config.runtime_dir);
  if (!('insecure' in config.tls)) {
    config.tls = { ca: resolve(base, config.tls.ca), cert: resolve(base, config.tls.cert), key: resolve(base, config.tls.key) };
  }
  config.trusted_keys = config.trusted_keys.map((k) => resolve(base, k));
  if (config.fetch.ca !== undefined) config.fetch.ca = resolve(base, config.fetch.ca);
  if (config.fetch.auth_header_file !== undefined) config.fetch.auth_header_file = resolve(base, config.fetch.auth_header_file);
  if (config.http_token_file !== undefined) config.http_token_file = resolve(base, config.http_token_file);
  if (config.upload_listen && portOf(config.upload_listen) > 65535) throw new ConfigError(file, [`upload_listen: port ${portOf(config.upload_listen)} is over 65535`]);
  if (portOf(config.listen) > 65535) throw new ConfigError(file, [`listen: port ${portOf(config.listen)} is over 65535`]);
  return config;
}
