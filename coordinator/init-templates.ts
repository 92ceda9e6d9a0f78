// The starting slipway.yaml of `slipway init`, one per language: what the
// build runs, what the release holds and how the app is started. Pure: the
// facts about the directory (which files it has) come from coordinator/init.ts.
// Every text parses against the config schema as it is (test/unit/init.test.ts).

export const LANGS = ['node', 'python', 'ruby', 'go', 'elixir', 'generic'] as const;
export type Lang = typeof LANGS[number];

export function isLang(s: string): s is Lang {
  return (LANGS as readonly string[]).includes(s);
}

/**
 * The files that mark a language, most specific first: a Python, Ruby or
 * Elixir app often has a package.json for its front-end tooling, a Node app
 * rarely has a Gemfile or a mix.exs, so package.json decides only alone.
 */
export const MARKERS: readonly { file: string; lang: Lang }[] = [
  { file: 'mix.exs', lang: 'elixir' },
  { file: 'go.mod', lang: 'go' },
  { file: 'Gemfile', lang: 'ruby' },
  { file: 'pyproject.toml', lang: 'python' },
  { file: 'requirements.txt', lang: 'python' },
  { file: 'package.json', lang: 'node' },
];

export interface Detected {
  lang: Lang;
  /** The file that decided it (undefined: nothing matched, generic). */
  by?: string;
  /** Other languages' marker files that were there too. */
  others: string[];
}

/** The language of a directory from the names of its top-level files. */
export function detectLang(files: ReadonlySet<string>): Detected {
  const hits = MARKERS.filter((m) => files.has(m.file));
  if (hits.length === 0) return { lang: 'generic', others: [] };
  const [first] = hits;
  return { lang: first.lang, by: first.file, others: hits.filter((h) => h.lang !== first.lang).map((h) => h.file) };
}

/** What a template needs to know about the directory. */
export interface TemplateFacts {
  app: string;
  /** Top-level file names of the directory. */
  files: ReadonlySet<string>;
  /** Elixir: the mix project's app name, which names its release (default: app). */
  release?: string;
}

interface Sections {
  build: string[];
  run: string[];
  /** The commented example task. */
  task: string;
  port: number;
}

const entry = (files: ReadonlySet<string>, candidates: string[]) => candidates.find((c) => files.has(c)) ?? candidates[0];

function node(f: TemplateFacts): Sections {
  return {
    port: 4000,
    build: [
      '  # Runs in a fresh checkout of the git tag (never in your working tree).',
      '  # A string runs through sh -c; a list runs the program directly.',
      '  command: npm ci --omit=dev',
      '  # What the release holds, relative to this file\'s directory.',
      `  include: [package.json, ${entry(f.files, ['server.js', 'index.js', 'app.js'])}, node_modules]`,
    ],
    run: [
      `  command: [node, ${entry(f.files, ['server.js', 'index.js', 'app.js'])}]`,
      '  env: { NODE_ENV: production }',
      '  # Sockets the agent binds and hands to each version (fds 3, 4, …):',
      '  # listen with server.listen({ fd: 3 }) for zero-downtime swaps (docs/apps.md).',
    ],
    task: 'migrate: [node, migrate.js]',
  };
}

function python(f: TemplateFacts): Sections {
  const main = entry(f.files, ['app.py', 'main.py', 'server.py']);
  const deps = f.files.has('requirements.txt') ? '-r requirements.txt' : f.files.has('pyproject.toml') ? '.' : undefined;
  return {
    port: 8000,
    build: [
      '  # Runs in a fresh checkout of the git tag (never in your working tree).',
      ...(deps
        ? ['  # Dependencies go into the release (.deps, on PYTHONPATH below): the hosts need python3 only.',
          `  command: python3 -m pip install --quiet --no-cache-dir --target .deps ${deps}`]
        : ['  # command: python3 -m pip install --quiet --target .deps -r requirements.txt   # then include .deps, PYTHONPATH: .deps']),
      '  # What the release holds, relative to this file\'s directory: add your package\'s directories.',
      `  include: [${main}${deps ? ', .deps' : ''}]`,
    ],
    run: [
      '  # A list runs the program directly; a string runs through sh -c.',
      `  command: [python3, ${main}]`,
      `  env: { PYTHONUNBUFFERED: "1"${deps ? ', PYTHONPATH: .deps' : ''} }`,
      '  # Sockets the agent binds and hands to each version as fds 3, 4, … (LISTEN_FDS):',
      '  # take fd 3 with socket.socket(fileno=3) rather than binding the port yourself',
      '  # (docs/apps.md shows it for http.server; gunicorn: --bind fd://3, uvicorn: --fd 3).',
    ],
    task: `migrate: [python3, ${main === 'app.py' ? 'migrate.py' : 'manage.py, migrate'}]`,
  };
}

function ruby(f: TemplateFacts): Sections {
  const main = entry(f.files, ['app.rb', 'server.rb', 'config.ru']);
  const bundled = f.files.has('Gemfile');
  const start = main === 'config.ru' ? 'rackup config.ru' : `ruby ${main}`;
  return {
    port: 9292,
    build: [
      '  # Runs in a fresh checkout of the git tag (never in your working tree).',
      ...(bundled
        ? ['  # Gems go into the release (vendor/bundle): the hosts need ruby and bundler only.',
          '  command: bundle config set --local path vendor/bundle && bundle config set --local without development:test && bundle install --quiet']
        : [`  command: [ruby, -c, ${main}]   # a syntax check; with a Gemfile: bundle install into vendor/bundle`]),
      '  # What the release holds, relative to this file\'s directory: add lib/ and the like.',
      `  include: [${bundled ? 'Gemfile, Gemfile.lock, .bundle, vendor/bundle, ' : ''}${main}]`,
    ],
    run: [
      '  # A string runs through sh -c (a single command gets exec in front: the app',
      '  # replaces the shell, so it is the process slipway signals); a list runs directly.',
      `  command: ${bundled ? 'bundle exec ' : ''}${start}`,
      '  env: { RACK_ENV: production }',
      '  # Sockets the agent binds and hands to each version as fds 3, 4, … (LISTEN_FDS):',
      '  # take fd 3 with TCPServer.for_fd(3) rather than binding the port yourself (docs/apps.md).',
    ],
    task: bundled ? 'migrate: [bundle, exec, rake, db:migrate]' : 'migrate: [ruby, migrate.rb]',
  };
}

function go(f: TemplateFacts): Sections {
  return {
    port: 8080,
    build: [
      '  # Runs in a fresh checkout of the git tag (never in your working tree).',
      '  # One static binary: the hosts need nothing else.',
      `  command: CGO_ENABLED=0 go build -trimpath -o bin/${f.app} .`,
      '  # What the release holds, relative to this file\'s directory.',
      '  include: [bin]',
    ],
    run: [
      `  command: [bin/${f.app}]`,
      '  # Sockets the agent binds and hands to each version as fds 3, 4, … (LISTEN_FDS):',
      '  # take fd 3 with net.FileListener(os.NewFile(3, "http")) rather than',
      '  # net.Listen on the port yourself (docs/apps.md).',
    ],
    task: `migrate: [bin/${f.app}, migrate]`,
  };
}

function elixir(f: TemplateFacts): Sections {
  const name = f.release ?? f.app;
  const rel = `_build/prod/rel/${name}`;
  return {
    port: 4000,
    build: [
      '  # Runs in a fresh checkout of the git tag (never in your working tree).',
      '  # A mix release carries the Erlang runtime: the hosts need nothing else.',
      '  command: MIX_ENV=prod mix deps.get --only prod && MIX_ENV=prod mix release --overwrite --quiet',
      '  # What the release holds, relative to this file\'s directory.',
      `  include: [${rel}]`,
    ],
    run: [
      `  command: [${rel}/bin/${name}, start]`,
      '  # Sockets the agent binds and hands to each version as fds 3, 4, … (LISTEN_FDS).',
      '  # docs/elixir.md: taking the socket, READY=1, node names during a hot swap, relups.',
    ],
    task: `eval: [${rel}/bin/${name}, rpc]`,
  };
}

function generic(): Sections {
  return {
    port: 8080,
    build: [
      '  # Optional: runs in a fresh checkout of the git tag (never in your working tree).',
      '  # command: make release',
      '  # What the release holds, relative to this file\'s directory.',
      '  include: [bin]',
    ],
    run: [
      '  # A list runs the program directly; a string runs through sh -c (a single',
      '  # command gets exec in front, so the app is the process slipway signals).',
      '  command: [bin/server]',
      '  # Sockets the agent binds and hands to each version as fds 3, 4, … (LISTEN_FDS):',
      '  # take fd 3 rather than binding the port yourself (docs/apps.md).',
    ],
    task: 'migrate: [bin/server, migrate]',
  };
}

const SECTIONS: Record<Lang, (f: TemplateFacts) => Sections> = { node, python, ruby, go, elixir, generic };

/** The commented starting slipway.yaml for `lang`. The app name must already be valid. */
export function templateText(lang: Lang, facts: TemplateFacts): string {
  const s = SECTIONS[lang](facts);
  const healthPath = lang === 'node' ? '/healthz' : '/';
  return `# slipway.yaml: how to build, run and deploy ${facts.app} (written by \`slipway init --lang ${lang}\`).
# Check it with any slipway command; errors name the key and the line.

app: ${facts.app}

build:
${s.build.join('\n')}
  timeout_s: 1800

run:
${s.run.join('\n')}
  listen:
    - { name: http, port: ${s.port}, host: 0.0.0.0 }
  # notify: true      # the app writes READY=1 to the fd in NOTIFY_FD when it serves
  #                   # (docs/apps.md); then only that makes it ready.
  #                   # Without it, staying up min_uptime_s (2 s) counts as ready.
  health:
    http: { listen: http, path: ${healthPath} }   # a path that answers 2xx
    timeout_s: 30
  stop: { signal: SIGTERM, drain_timeout_s: 30 }   # max_draining: 3 old versions drain at once, the oldest beyond that is killed early
  # upgrade: hot        # hot (the default with listen) | restart | [bin/app, upgrade, "{version}"]

# Commands run inside a release with \`slipway run ENV TASK\`.
tasks: {}
#   ${s.task}
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
