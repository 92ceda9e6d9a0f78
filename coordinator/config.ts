// slipway.yaml: the app's deploy config, validated with errors that name the
// key and the line. The `run` and `tasks` sections are the manifest's own.
import * as z from 'zod'; // a namespace import: bundles keep only the parts used (not every locale)
import { resolve, dirname } from 'node:path';
import { APP_NAME_RE } from '../common/names.js';
import { runSchema, tasksSchema } from '../common/manifest.js';
import { readConfigFile } from '../common/config-file.js';
import { didYouMean } from '../common/config-messages.js';
import { UsageError } from './errors.js';

export const DEFAULT_CONFIG_FILE = 'slipway.yaml';

const hostSchema = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/, 'a host is NAME:PORT or IP:PORT (for example 10.0.0.5:7070)')
  // Only a host that has the NAME:PORT shape gets the port check (else both messages showed for "nohost").
  .refine((h) => { const m = /:(\d{1,5})$/.exec(h); return !m || (Number(m[1]) >= 1 && Number(m[1]) <= 65535); }, 'the port must be 1 to 65535');

export const tlsClientSchema = z.union([
  z.strictObject({ insecure: z.literal(true) }),
  z.strictObject({ ca: z.string(), cert: z.string(), key: z.string() }),
], { error: 'either { insecure: true } or { ca, cert, key } (paths of PEM files)' });

const envNameRe = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const hookCommand = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'a hook is a shell command (a string) or an argv list' });

/** {app} {version} {sha256} {size} {env}, and {file} in publish commands (coordinator/artifact-store/template.ts). */
const storeUrl = z.string().regex(/^https?:\/\/[^/\s]+/, 'a store URL is https://HOST/PATH with placeholders, for example https://artifacts.example.com/{app}/{sha256}.tar.gz')
  .refine((u) => /\{sha256\}/.test(u), 'the URL must hold {sha256}, so that every release has its own (immutable) object');

/**
 * An artifact store the agents pull releases from (coordinator/artifact-store/):
 * `url` is what they fetch, `url_command` (optional) prints a URL to fetch
 * instead (a presigned one), `publish` how the coordinator puts the release
 * there: a command run once per release, or an HTTP PUT.
 */
export const storeSchema = z.strictObject({
  url: storeUrl,
  url_command: hookCommand.optional(),
  publish: z.union([
    z.strictObject({ command: hookCommand }),
    z.strictObject({ put: storeUrl }),
  ], { error: 'publish is { command: "…" } (run once per release, with {file}, {app}, {version}, {sha256}) or { put: URL } (an HTTP PUT)' }),
  /** PEM CA bundle for the coordinator's own requests to the store (the published check, the PUT). */
  ca: z.string().optional(),
  /** A file with one `Name: value` line sent with the coordinator's requests to the store. */
  auth_header_file: z.string().optional(),
});

/** How `slipway setup` reaches the hosts: the system's OpenSSH client (coordinator/setup/ssh.ts). */
export const sshSchema = z.strictObject({
  /** An ssh_config file for `ssh -F` (relative to slipway.yaml); SLIPWAY_SSH_CONFIG overrides it. Default: ~/.ssh/config as ssh reads it. */
  config: z.string().min(1).optional(),
  /** The login user; not root: commands run through `sudo -n`. Default: ssh's own (User in ssh_config, else the local user). */
  user: z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/, 'not a user name').optional(),
  /** The ssh port, when ssh_config does not say. */
  port: z.number().int().min(1).max(65535).optional(),
});

/** What `slipway setup ENV` installs on every host (docs/setup.md). */
export const setupSchema = z.strictObject({
  /** The slipway-agent single executable to install (npm run build:sea makes dist/sea/slipway-agent); SLIPWAY_AGENT_EXE overrides it. */
  agent_bin: z.string().min(1).optional(),
  /** The CA directory (slipway certs init): agents' certificates are issued from it into certs/agents/. Default: the directory of tls.ca, else certs. */
  certs: z.string().min(1).optional(),
  /** Hosts set up at once. */
  parallel: z.number().int().min(1).max(64).default(8),
  /** The agents' HTTP endpoint (health, status, metrics) on each host. */
  http: z.union([z.string().regex(/^[0-9.]+:\d{1,5}$/, 'IP:PORT'), z.literal(false)]).default('127.0.0.1:7071'),
  /** per_app: the agents run each app as its own user, slipway-<app> (agent config app_users: per_app); setup makes this app's. Unset: every app as the user slipway. */
  app_users: z.literal('per_app', { error: 'setup.app_users is per_app (each app its own user), or left out (every app runs as the user slipway)' }).optional(),
});

export const environmentSchema = z.strictObject({
  hosts: z.array(hostSchema).min(1, 'an environment needs at least one host'),
  rollout: z.strictObject({
    batch: z.union([z.number().int().min(1), z.string().regex(/^\d{1,3}%$/, 'a batch is a number or a percentage like "25%"')]).default(1),
    pause_s: z.number().min(0).default(0),
    revert: z.enum(['all', 'batch']).default('all'),
  }).optional(),
  concurrency: z.number().int().min(1).max(256).default(8),
  tls: tlsClientSchema.optional(),
  /** This environment's artifact store (overrides the top-level one); false: push from the coordinator. */
  store: z.union([storeSchema, z.literal(false)]).optional(),
  /** This environment's ssh settings (override the top-level ones). */
  ssh: sshSchema.optional(),
});

export const slipwayConfigSchema = z.strictObject({
  app: z.string().regex(APP_NAME_RE, 'app names are 1 to 63 of a-z, 0-9, _ and -, starting with a letter or digit'),
  build: z.strictObject({
    command: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    include: z.array(z.string().min(1)).min(1, 'build.include lists the files and folders the release holds'),
    timeout_s: z.number().positive().default(1800),
  }),
  run: runSchema,
  tasks: tasksSchema.default({}),
  before_activate: z.string().optional(),
  // Local commands run by slipway deploy (coordinator/hooks.ts): a shell command or an argv list.
  hooks: z.strictObject({ pre_deploy: hookCommand.optional(), post_deploy: hookCommand.optional(), on_failure: hookCommand.optional() }).optional(),
  environments: z.record(z.string().regex(envNameRe, 'environment names are like app names'), environmentSchema)
    .refine((e) => Object.keys(e).length > 0, 'at least one environment is needed'),
  tls: tlsClientSchema.optional(),
  signing_key: z.string().optional(),
  /** Where agents pull releases from (the default: the coordinator pushes them); environments may override. */
  store: storeSchema.optional(),
  /** slipway setup: ssh access and what goes on the hosts. */
  ssh: sshSchema.optional(),
  setup: setupSchema.optional(),
  deadline_s: z.number().positive().max(600).default(10),
}).superRefine((c, ctx) => {
  if (c.before_activate !== undefined && !(c.before_activate in c.tasks)) {
    ctx.addIssue({ code: 'custom', path: ['before_activate'], message: `names task "${c.before_activate}", which is not in tasks` });
  }
});

export type SlipwayConfig = z.infer<typeof slipwayConfigSchema>;
export type EnvironmentConfig = z.infer<typeof environmentSchema>;
export type TlsClientConfig = z.infer<typeof tlsClientSchema>;
export type StoreConfig = z.infer<typeof storeSchema>;
export type SshConfig = z.infer<typeof sshSchema>;
export type SetupConfig = z.infer<typeof setupSchema>;

export interface LoadedConfig {
  config: SlipwayConfig;
  /** Absolute path of the file. */
  file: string;
  /** The directory holding it: the app's repo root; relative paths in the file are from here. */
  root: string;
}

export function loadConfig(file = DEFAULT_CONFIG_FILE): LoadedConfig {
  const abs = resolve(file);
  const config = readConfigFile(abs, slipwayConfigSchema, file, `write one with \`slipway init\` in the app's directory, or name another with -c FILE`);
  return { config, file: abs, root: dirname(abs) };
}

/** The environment by name, or a usage error (exit 2) that lists the known ones: the file is fine, the argument is not. */
export function environment(loaded: LoadedConfig, name: string): EnvironmentConfig {
  const env = Object.hasOwn(loaded.config.environments, name) ? loaded.config.environments[name] : undefined;
  if (!env) {
    const names = Object.keys(loaded.config.environments);
    const meant = didYouMean(name, names);
    throw new UsageError(`unknown environment "${name}"${meant ? ` (did you mean "${meant}"?)` : ''}; ${loaded.file} defines: ${names.join(', ')}`);
  }
  return env;
}
