// The release manifest (slipway.json at the tarball's root) and its `run`
// section, which slipway.yaml shares. One schema, used by `slipway build`
// (to write it) and by the agent (to trust nothing else).
import * as z from 'zod'; // a namespace import: bundles keep only the parts used (not every locale)
import { APP_NAME_RE, SHA256_RE } from './names.js';
import { isVersion } from './version.js';

export const MANIFEST_FILE = 'slipway.json';

const signalNames = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGKILL'] as const;

/** stop.max_draining when the manifest does not say. */
export const DEFAULT_MAX_DRAINING = 3;

const command = z.array(z.string().min(1)).min(1, 'a command needs at least the program');

// Words a shell reads as syntax or as one of its own commands: a string
// starting with one is run as it is, never behind `exec`.
const SHELL_WORDS = new Set(['exec', 'if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in', '{', '}', '!', '[[',
  'cd', 'export', 'set', 'unset', 'trap', 'eval', 'exit', 'return', 'shift', 'read', 'wait', 'ulimit', 'umask', 'alias', '.', ':']);

/**
 * A string run.command as the argv the agent starts: `sh -c STRING`, like
 * build.command. A single plain command (no `;`, `&&`, `|`, `(`, backquote
 * or newline) gets `exec` in front (after any leading NAME=value words), as
 * bash would do by itself and Debian's dash does not: the app then replaces
 * the shell, so that it is the process the agent watches and signals, and
 * LISTEN_PID is its own pid. A compound command is left as it is: it should
 * end with `exec` itself (docs/apps.md).
 */
export function shellCommandArgv(cmd: string): string[] {
  return ['sh', '-c', withExec(cmd.trim())];
}

function withExec(s: string): string {
  // fd redirections (2>&1, >&2, <&-) are not control operators.
  if (/[;&|()`\n]/.test(s.replace(/\d*[<>]&(\d+|-)/g, ''))) return s;
  const m = /^((?:[A-Za-z_][A-Za-z0-9_]*=[^\s'"`$\\]*\s+)*)(\S+)/.exec(s);
  if (!m || SHELL_WORDS.has(m[2]) || m[2].includes('=')) return s;
  return `${m[1]}exec ${s.slice(m[1].length)}`;
}

/** run.command: an argv list, or a string run with `sh -c` (made an argv here, so everything downstream sees one). */
const runCommand = z.union([z.string().trim().min(1), command], { error: 'a shell command (a string, run with sh -c) or an argv list such as [python3, app.py]' })
  .transform((c) => (typeof c === 'string' ? shellCommandArgv(c) : c));

export const listenSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'a listen name is 1 to 64 of a-z, A-Z, 0-9, _ . -'),
  port: z.number().int().min(1).max(65535),
  host: z.string().min(1).default('0.0.0.0'),
});

export const healthSchema = z.strictObject({
  http: z.strictObject({
    listen: z.string().optional(),
    port: z.number().int().min(1).max(65535).optional(),
    path: z.string().startsWith('/').default('/'),
  }).optional(),
  tcp: z.strictObject({
    listen: z.string().optional(),
    port: z.number().int().min(1).max(65535).optional(),
  }).optional(),
  command: command.optional(),
  timeout_s: z.number().positive().max(3600).default(30),
  interval_ms: z.number().int().min(10).max(60_000).default(200),
});

export const restartSchema = z.strictObject({
  max_restarts: z.number().int().min(0).default(5),
  window_s: z.number().positive().default(60),
  backoff_initial_ms: z.number().int().min(0).default(100),
  backoff_max_ms: z.number().int().min(0).default(15_000),
  reset_after_s: z.number().positive().default(30),
  min_healthy_s: z.number().min(0).default(60),
});

export const runSchema = z.strictObject({
  command: runCommand,
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names are letters, digits and _'), z.string()).default({}),
  listen: z.array(listenSchema).default([]),
  health: healthSchema.optional(),
  stop: z.strictObject({
    signal: z.enum(signalNames).default('SIGTERM'),
    drain_timeout_s: z.number().min(0).max(86_400).default(30),
    /** Old versions that may drain at once; beyond that the oldest is killed early (logged and counted). */
    max_draining: z.number().int().min(1).max(100).default(DEFAULT_MAX_DRAINING),
  }).default({ signal: 'SIGTERM', drain_timeout_s: 30, max_draining: DEFAULT_MAX_DRAINING }),
  min_uptime_s: z.number().min(0).max(3600).default(2),
  /** The app writes READY=1 to NOTIFY_FD: only that (or a command check) makes it ready, never uptime alone. */
  notify: z.boolean().default(false),
  restart: restartSchema.default(restartSchema.parse({})),
  upgrade: z.union([z.enum(['hot', 'restart']), command]).optional(),
  /** After an upgrade command: prints the version the running app reports (its last line), checked before the new release is recorded. */
  version_probe: command.optional(),
}).superRefine((run, ctx) => {
  const names = new Set<string>();
  run.listen.forEach((l, i) => {
    if (names.has(l.name)) ctx.addIssue({ code: 'custom', path: ['listen', i, 'name'], message: `listen name "${l.name}" is used twice` });
    names.add(l.name);
  });
  for (const kind of ['http', 'tcp'] as const) {
    const h = run.health?.[kind];
    if (h?.listen !== undefined && !names.has(h.listen)) {
      ctx.addIssue({ code: 'custom', path: ['health', kind, 'listen'], message: `health.${kind}.listen names "${h.listen}", which is not in run.listen` });
    }
    if (h && h.listen === undefined && h.port === undefined) {
      ctx.addIssue({ code: 'custom', path: ['health', kind], message: `health.${kind} needs "listen" (a run.listen name) or "port"` });
    }
  }
  if (run.upgrade === 'hot' && run.listen.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['upgrade'], message: 'upgrade "hot" needs run.listen: the sockets are what is handed over' });
  }
});

export type RunSpec = z.infer<typeof runSchema>;
export type ListenSpec = z.infer<typeof listenSchema>;

export const tasksSchema = z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'task names are like app names'), command);

export const manifestSchema = z.strictObject({
  app: z.string().regex(APP_NAME_RE, 'app names are 1 to 63 of a-z, 0-9, _ and -'),
  version: z.string().refine(isVersion, 'not exact semver'),
  git: z.strictObject({
    commit: z.string().regex(/^[0-9a-f]{40,64}$/),
    tag: z.string(),
  }),
  source_date: z.string().datetime(),
  run: runSchema,
  tasks: tasksSchema.default({}),
});

export type Manifest = z.infer<typeof manifestSchema>;

/** The upgrade strategy a manifest asks for: hot when it has sockets, else restart. */
export function defaultStrategy(run: RunSpec): 'hot' | 'restart' | string[] {
  if (run.upgrade !== undefined) return run.upgrade;
  return run.listen.length > 0 ? 'hot' : 'restart';
}

export function isSha256(s: string): boolean {
  return SHA256_RE.test(s);
}

/** Formats zod issues as "key.path: message" lines. */
export function formatIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[], prefix = ''): string[] {
  return issues.map((i) => {
    const key = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    return key ? `${key}: ${i.message}` : i.message;
  });
}
