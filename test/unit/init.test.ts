// `slipway init` per language (coordinator/init.ts, coordinator/init-templates.ts)
// and run.command as a string (common/manifest.ts: shellCommandArgv).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile, mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../common/config-file.js';
import { slipwayConfigSchema } from '../../coordinator/config.js';
import { manifestSchema, runSchema, shellCommandArgv } from '../../common/manifest.js';
import { initConfigText, parseLang, projectName, writeInitConfig } from '../../coordinator/init.js';
import { LANGS, detectLang, type Lang } from '../../coordinator/init-templates.js';
import { BuildError } from '../../coordinator/build/errors.js';

/** Marker files of each language, as a real project of it has them. */
const PROJECTS: Record<Lang, string[]> = {
  node: ['package.json', 'server.js'],
  python: ['requirements.txt', 'app.py'],
  ruby: ['Gemfile', 'Gemfile.lock', 'app.rb'],
  go: ['go.mod', 'main.go'],
  elixir: ['mix.exs', 'lib'],
  generic: ['Makefile', 'bin'],
};

describe('init templates', () => {
  for (const lang of LANGS) {
    test(`${lang}: parses with the config schema and makes a valid manifest`, () => {
      for (const files of [new Set(PROJECTS[lang]), new Set<string>()]) {
        const text = initConfigText('shop', lang, { files });
        const c = parseConfigText(text, slipwayConfigSchema, 'slipway.yaml');
        assert.equal(c.app, 'shop');
        assert.deepEqual(Object.keys(c.environments), ['staging']);
        assert.equal(c.run.listen[0]?.name, 'http');
        assert.ok(c.run.command.length >= 1);
        // What slipway build would put in slipway.json passes the agent's schema.
        const m = manifestSchema.safeParse({ app: c.app, version: '1.0.0', git: { commit: 'a'.repeat(40), tag: '1.0.0' }, source_date: '2026-11-01T10:00:00Z', run: c.run, tasks: c.tasks });
        assert.ok(m.success, JSON.stringify(m.error?.issues));
        // Only a Node app installs npm packages.
        const build = typeof c.build.command === 'string' ? c.build.command : c.build.command?.join(' ') ?? '';
        if (lang !== 'node') assert.doesNotMatch(build, /npm/, `${lang}: ${build}`);
        // Each template points at the docs for taking the socket.
        assert.match(text, lang === 'elixir' ? /docs\/elixir\.md/ : /docs\/apps\.md/);
      }
    });
  }

  test('what each language builds and runs', () => {
    const parse = (lang: Lang, files: string[], release?: string) => parseConfigText(initConfigText('shop', lang, { files: new Set(files), release }), slipwayConfigSchema, 'slipway.yaml');
    const node = parse('node', PROJECTS.node);
    assert.equal(node.build.command, 'npm ci --omit=dev');
    assert.deepEqual(node.run.command, ['node', 'server.js']);
    const py = parse('python', PROJECTS.python);
    assert.match(String(py.build.command), /pip install .*--target \.deps -r requirements\.txt/);
    assert.deepEqual([py.run.command, py.run.env.PYTHONPATH, py.build.include], [['python3', 'app.py'], '.deps', ['app.py', '.deps']]);
    const pyproject = parse('python', ['pyproject.toml', 'main.py']);
    assert.match(String(pyproject.build.command), /--target \.deps \.$/);
    assert.deepEqual(pyproject.run.command, ['python3', 'main.py']);
    const bare = parse('python', []);
    assert.deepEqual([bare.build.command, bare.build.include, bare.run.env.PYTHONPATH], [undefined, ['app.py'], undefined]);
    const rb = parse('ruby', PROJECTS.ruby);
    assert.match(String(rb.build.command), /bundle install/);
    assert.deepEqual(rb.run.command, ['sh', '-c', 'exec bundle exec ruby app.rb'], 'a string run.command, behind exec');
    const go = parse('go', PROJECTS.go);
    assert.match(String(go.build.command), /go build .*-o bin\/shop \./);
    assert.deepEqual([go.run.command, go.build.include], [['bin/shop'], ['bin']]);
    const ex = parse('elixir', PROJECTS.elixir, 'my_shop');
    assert.deepEqual(ex.run.command, ['_build/prod/rel/my_shop/bin/my_shop', 'start']);
    assert.match(String(ex.build.command), /mix release/);
    const gen = parse('generic', []);
    assert.deepEqual([gen.build.command, gen.run.command], [undefined, ['bin/server']]);
  });

  test('detection: the most specific marker wins; the others are reported', () => {
    assert.deepEqual(detectLang(new Set(['package.json'])), { lang: 'node', by: 'package.json', others: [] });
    assert.deepEqual(detectLang(new Set(['requirements.txt', 'package.json'])), { lang: 'python', by: 'requirements.txt', others: ['package.json'] });
    assert.equal(detectLang(new Set(['pyproject.toml'])).lang, 'python');
    assert.equal(detectLang(new Set(['Gemfile', 'package.json'])).lang, 'ruby');
    assert.equal(detectLang(new Set(['go.mod'])).lang, 'go');
    assert.equal(detectLang(new Set(['mix.exs', 'package.json'])).lang, 'elixir');
    assert.deepEqual(detectLang(new Set(['README.md'])), { lang: 'generic', others: [] });
  });

  test('a bad --lang is a usage error listing the choices', () => {
    assert.equal(parseLang('go'), 'go');
    assert.throws(() => parseLang('rust'), (e: unknown) => e instanceof BuildError && e.usage && /--lang must be one of node, python, ruby, go, elixir, generic, not "rust"/.test(e.message));
  });

  test('app names from the project files', () => {
    assert.equal(projectName('package.json', '{"name":"@acme/web"}'), '@acme/web');
    assert.equal(projectName('package.json', 'not json'), undefined);
    assert.equal(projectName('pyproject.toml', '[project]\nname = "shop-api"\nversion = "1"\n'), 'shop-api');
    assert.equal(projectName('go.mod', 'module example.com/acme/shop/v2\n\ngo 1.19\n'), 'shop');
    assert.equal(projectName('mix.exs', 'def project do\n  [app: :my_shop, version: "0.1.0"]\n'), 'my_shop');
  });
});

describe('writeInitConfig per language', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'slipway-init-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('detects the language, names the app from its files; --lang overrides; nothing else is written', async () => {
    const py = join(dir, 'py');
    await mkdir(py);
    await writeFile(join(py, 'pyproject.toml'), '[project]\nname = "Shop API"\n');
    await writeFile(join(py, 'package.json'), '{"name":"assets"}');
    const r = await writeInitConfig(py);
    assert.deepEqual([r.lang, r.by, r.others], ['python', 'pyproject.toml', ['package.json']]);
    const text = await readFile(r.file, 'utf8');
    assert.match(text, /^app: shop-api$/m);
    assert.doesNotMatch(text, /npm ci/);
    const forced = await writeInitConfig(py, { force: true, lang: 'node' });
    assert.deepEqual([forced.lang, forced.by, forced.others], ['node', 'option', ['pyproject.toml']]);
    assert.match(await readFile(forced.file, 'utf8'), /^app: assets$/m);
    assert.deepEqual((await readdir(py)).sort(), ['package.json', 'pyproject.toml', 'slipway.yaml']);

    const ex = join(dir, 'ex');
    await mkdir(ex);
    await writeFile(join(ex, 'mix.exs'), 'def project, do: [app: :my_shop]\n');
    const e = await writeInitConfig(ex, { app: 'shop' });
    const c = parseConfigText(await readFile(e.file, 'utf8'), slipwayConfigSchema, 'slipway.yaml');
    assert.deepEqual([c.app, c.run.command[0]], ['shop', '_build/prod/rel/my_shop/bin/my_shop'], 'the release keeps the mix app\'s name');

    const none = join(dir, 'none');
    await mkdir(none);
    assert.deepEqual((({ lang, by }) => ({ lang, by }))(await writeInitConfig(none)), { lang: 'generic', by: 'none' });
  });
});

describe('run.command as a string', () => {
  const run = (command: unknown) => runSchema.parse({ command });

  test('runs through sh -c, like build.command; an argv list is kept as it is', () => {
    assert.deepEqual(run(['python3', 'app.py']), run(['python3', 'app.py']));
    assert.deepEqual(run(['python3', 'app.py']).command, ['python3', 'app.py']);
    assert.deepEqual(run('  python3 app.py --port "$PORT"  ').command, ['sh', '-c', 'exec python3 app.py --port "$PORT"']);
    assert.deepEqual(run('bundle exec ruby app.rb 2>&1').command, ['sh', '-c', 'exec bundle exec ruby app.rb 2>&1']);
  });

  test('a single command gets exec (after leading assignments); compound commands and shell words are left alone', () => {
    const cases: [string, string][] = [
      ['./server', 'exec ./server'],
      ['RACK_ENV=production WORKERS=2 bundle exec puma', 'RACK_ENV=production WORKERS=2 exec bundle exec puma'],
      ['exec ./server', 'exec ./server'],
      ['cd web && exec ./server', 'cd web && exec ./server'],
      ['./migrate; ./server', './migrate; ./server'],
      ['./server | tee log', './server | tee log'],
      ['./server &', './server &'],
      ['if true; then ./server; fi', 'if true; then ./server; fi'],
      ['export A=1', 'export A=1'],
      ['FOO="a b" ./server', 'FOO="a b" ./server'],
      ['python3 -c "$(cat boot.py)"', 'python3 -c "$(cat boot.py)"'],
    ];
    for (const [input, script] of cases) assert.deepEqual(shellCommandArgv(input), ['sh', '-c', script], input);
  });

  test('an empty string or list is refused with words that say what is accepted', () => {
    for (const bad of ['', '   ', [], 42]) {
      const r = runSchema.safeParse({ command: bad });
      assert.equal(r.success, false, JSON.stringify(bad));
    }
    const r = runSchema.safeParse({ command: 42 });
    assert.match(JSON.stringify(r.error?.issues), /a shell command \(a string, run with sh -c\) or an argv list/);
  });

  test('the manifest slipway build writes holds the argv, which the agent reads back unchanged', () => {
    const c = parseConfigText(initConfigText('shop', 'ruby', { files: new Set(['Gemfile']) }), slipwayConfigSchema, 'slipway.yaml');
    const m = manifestSchema.parse({ app: 'shop', version: '1.0.0', git: { commit: 'a'.repeat(40), tag: '1.0.0' }, source_date: '2026-11-01T10:00:00Z', run: c.run, tasks: {} });
    const again = manifestSchema.parse(JSON.parse(JSON.stringify(m)));
    assert.deepEqual(again.run.command, ['sh', '-c', 'exec bundle exec ruby app.rb']);
  });
});
