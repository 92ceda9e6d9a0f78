// `slipway init`: writes a commented starting slipway.yaml (one that passes
// the config schema as it is, so `slipway build` can run right after).
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { APP_NAME_RE } from '../common/names.js';
import { DEFAULT_CONFIG_FILE } from './config.js';
import { BuildError } from './build/errors.js';

export function initConfigText(appName: string): string {
  if (!APP_NAME_RE.test(appName)) {
    throw new BuildError(`"${appName}" is not a valid app name: use 1 to 63 of a-z, 0-9, _ and -, starting with a letter or digit`, { usage: true });
  }
  return `# slipway.yaml: how to build, run and deploy ${appName}.
# Check it with any slipway command; errors name the key and the line.

app: ${appName}

build:
  # Runs in a fresh checkout of the git tag (never in your working tree).
  # A string runs through sh -c; a list runs the program directly.
  command: npm ci --omit=dev
  # What the release holds, relative to this file's directory.
  include: [package.json, server.js, node_modules]
  timeout_s: 1800

run:
  command: [node, server.js]
  env: { NODE_ENV: production }
  # Sockets the agent binds and hands to each version (fds 3, 4, …):
  # listen with server.listen({ fd: 3 }) for zero-downtime swaps.
  listen:
    - { name: http, port: 4000, host: 0.0.0.0 }
  # notify: true      # the app writes READY=1 to the fd in NOTIFY_FD when it serves
  #                   # (slipway/app's listen() does); then only that makes it ready.
  #                   # Without it, staying up min_uptime_s (2 s) counts as ready.
  health:
    http: { listen: http, path: /healthz }
    timeout_s: 30
  stop: { signal: SIGTERM, drain_timeout_s: 30 }   # max_draining: 3 old versions drain at once, the oldest beyond that is killed early
  # upgrade: hot        # hot (the default with listen) | restart | [bin/app, upgrade, "{version}"]

# Commands run inside a release with \`slipway run ENV TASK\`.
tasks: {}
#   migrate: [node, migrate.js]
# before_activate: migrate     # a task run on one host before each activation

environments:
  staging:
    hosts: [127.0.0.1:7070]
  # production:
  #   hosts: [app1.internal:7070, app2.internal:7070]
  #   rollout: { batch: 1, pause_s: 5, revert: all }   # or batch: "25%"; revert: batch

# mTLS to the agents (make these with \`slipway certs init\` and \`slipway certs issue\`):
tls: { insecure: true }       # only for loopback hosts; use the line below for real hosts
# tls: { ca: certs/ca.pem, cert: certs/coordinator.pem, key: certs/coordinator-key.pem }
# signing_key: keys/release.key   # sign releases (\`slipway keys generate\`)
`;
}

/** An app name from a package name or a directory name: "@acme/My App" → "my-app". */
export function appNameFrom(name: string): string | undefined {
  const cleaned = name.replace(/^@[^/]*\//, '').toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[-_]+|-+$/g, '').slice(0, 63);
  return APP_NAME_RE.test(cleaned) ? cleaned : undefined;
}

async function guessAppName(dir: string): Promise<string> {
  try {
    const pkg: unknown = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    const name = typeof pkg === 'object' && pkg !== null ? (pkg as { name?: unknown }).name : undefined;
    if (typeof name === 'string') {
      const app = appNameFrom(name);
      if (app) return app;
    }
  } catch {
    // no or unreadable package.json: use the directory's name
  }
  return appNameFrom(basename(resolve(dir))) ?? 'app';
}

/** Writes `<dir>/slipway.yaml`; refuses to overwrite one unless `force`. Returns the path. */
export async function writeInitConfig(dir: string, opts: { force?: boolean; app?: string } = {}): Promise<string> {
  const path = join(resolve(dir), DEFAULT_CONFIG_FILE);
  const text = initConfigText(opts.app ?? (await guessAppName(dir)));
  try {
    await writeFile(path, text, { flag: opts.force ? 'w' : 'wx', mode: 0o644 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new BuildError(`${path} already exists; keep it, or overwrite it with --force`, { usage: true });
    }
    throw err;
  }
  return path;
}
