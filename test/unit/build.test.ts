// buildRelease against real temporary git repositories.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir, readFile, chmod, symlink, utimes, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import * as tar from 'tar';
import { buildRelease, BuildError, type BuildOptions } from '../../coordinator/build/build.js';
import { slipwayConfigSchema, type SlipwayConfig } from '../../coordinator/config.js';
import { manifestSchema } from '../../common/manifest.js';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
};

function git(cwd: string, args: string[], date = '2026-01-02T03:04:05Z'): string {
  return execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'tag.gpgSign=false', '-c', 'commit.gpgSign=false', ...args], {
    cwd, env: { ...GIT_ENV, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }, encoding: 'utf8',
  });
}

function config(over: Partial<SlipwayConfig['build']> = {}): SlipwayConfig {
  return slipwayConfigSchema.parse({
    app: 'hello',
    build: { include: ['server.js', 'package.json', 'lib'], ...over },
    run: { command: ['node', 'server.js'], listen: [{ name: 'http', port: 4000 }] },
    tasks: { migrate: ['node', 'migrate.js'] },
    environments: { staging: { hosts: ['127.0.0.1:7070'] } },
  });
}

interface Entry { path: string; type: string; mode: number; mtime?: Date; body: string; linkpath?: string }

async function readTarball(file: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  await tar.t({
    file,
    onReadEntry: (e) => {
      const chunks: Buffer[] = [];
      const item: Entry = { path: e.path, type: e.type, mode: e.mode ?? 0, mtime: e.mtime, body: '', linkpath: e.linkpath };
      entries.push(item);
      e.on('data', (c: Buffer) => chunks.push(c));
      e.on('end', () => { item.body = Buffer.concat(chunks).toString('utf8'); });
    },
  });
  return entries;
}

const sha = async (file: string): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex');

/** A repo with an app at its top: server.js, package.json, lib/ (with an executable and a link). */
async function makeRepo(base: string, name: string, opts: { version?: string; reverse?: boolean } = {}): Promise<string> {
  const dir = join(base, name);
  await mkdir(dir, { recursive: true });
  git(dir, ['init', '-q']);
  const files: [string, string][] = [
    ['server.js', 'console.log("hello");\n'],
    ['package.json', JSON.stringify({ name: 'hello', version: opts.version ?? '1.2.3' }) + '\n'],
    ['lib/util.js', 'export const x = 1;\n'],
    ['lib/b/deep.js', 'deep\n'],
    ['lib/a-b.js', 'dash\n'],
    ['lib/run.sh', '#!/bin/sh\necho run\n'],
    ['README.md', 'not in the release\n'],
  ];
  if (opts.reverse) files.reverse();
  for (const [f, body] of files) {
    await mkdir(join(dir, f, '..'), { recursive: true });
    await writeFile(join(dir, f), body, { mode: 0o600 });
  }
  await chmod(join(dir, 'lib/run.sh'), opts.reverse ? 0o700 : 0o755);
  await symlink('util.js', join(dir, 'lib/link.js'));
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'first']);
  git(dir, ['tag', '1.2.3']);
  return dir;
}

describe('buildRelease', () => {
  let base: string;
  let repo: string;
  const opts = (over: Partial<BuildOptions> = {}): BuildOptions => ({
    root: repo, config: config(), configFile: join(repo, 'slipway.yaml'), outDir: join(base, 'out'), ...over,
  });
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'slipway-build-test-'));
    repo = await makeRepo(base, 'repo');
  });
  after(async () => { await rm(base, { recursive: true, force: true }); });

  test('builds a release: slipway.json first, then the included files sorted by path', async () => {
    const lines: string[] = [];
    const r = await buildRelease(opts({ version: '1.2.3', log: (l) => lines.push(l) }));
    assert.equal(r.app, 'hello');
    assert.equal(r.version, '1.2.3');
    assert.equal(r.tag, '1.2.3');
    assert.match(r.commit, /^[0-9a-f]{40}$/);
    assert.equal(r.sourceDate, '2026-01-02T03:04:05Z');
    assert.equal(r.tarball, join(base, 'out', 'hello-1.2.3.tar.gz'));
    assert.deepEqual(r.notes, []);
    assert.equal(r.sha256, await sha(r.tarball));
    const entries = await readTarball(r.tarball);
    assert.deepEqual(entries.map((e) => e.path), [
      'slipway.json',
      'lib/', 'lib/a-b.js', 'lib/b/', 'lib/b/deep.js', 'lib/link.js', 'lib/run.sh', 'lib/util.js',
      'package.json', 'server.js',
    ]);
    assert.equal(r.files, entries.length);
    const manifest = manifestSchema.parse(JSON.parse(entries[0].body));
    assert.equal(manifest.version, '1.2.3');
    assert.deepEqual(manifest.git, { commit: r.commit, tag: '1.2.3' });
    assert.equal(manifest.source_date, '2026-01-02T03:04:05Z');
    assert.deepEqual(manifest.tasks, { migrate: ['node', 'migrate.js'] });
    assert.equal(manifest.run.listen[0].host, '0.0.0.0');
    const byPath = new Map(entries.map((e) => [e.path, e]));
    assert.equal(byPath.get('server.js')?.body, 'console.log("hello");\n');
    assert.equal(byPath.get('server.js')?.mode, 0o644);
    assert.equal(byPath.get('lib/run.sh')?.mode, 0o755);
    assert.equal(byPath.get('lib/')?.mode, 0o755);
    assert.equal(byPath.get('lib/link.js')?.type, 'SymbolicLink');
    assert.equal(byPath.get('lib/link.js')?.linkpath, 'util.js');
    for (const e of entries) assert.equal(e.mtime?.toISOString(), '2026-01-02T03:04:05.000Z', e.path);
    assert.ok(lines.some((l) => l.includes('building hello 1.2.3')));
    // The temporary worktree is gone.
    assert.equal(git(repo, ['worktree', 'list']).trim().split('\n').length, 1);
  });

  test('two builds of one tag are byte-identical, also from a clone with other mtimes and creation order', async () => {
    const a = await buildRelease(opts({ version: '1.2.3', outDir: join(base, 'out-a') }));
    const b = await buildRelease(opts({ version: '1.2.3', outDir: join(base, 'out-b') }));
    assert.equal(a.sha256, b.sha256);
    // A different repository with the same content, files made in reverse order,
    // other permissions on disk (0700 vs 0755 keeps the exec bit) and other mtimes,
    // committed at the same time: git gives the same commit, slipway the same bytes.
    const other = await makeRepo(base, 'other', { reverse: true });
    await utimes(join(other, 'server.js'), new Date(5e11), new Date(5e11));
    const c = await buildRelease(opts({ root: other, version: '1.2.3', outDir: join(base, 'out-c') }));
    assert.equal(c.commit, a.commit);
    assert.equal(c.sha256, a.sha256);
    // And a clone (checkout happens now, with today's mtimes).
    git(base, ['clone', '-q', repo, 'clone']);
    const d = await buildRelease(opts({ root: join(base, 'clone'), version: '1.2.3', outDir: join(base, 'out-d') }));
    assert.equal(d.sha256, a.sha256);
  });

  test('builds the version tag on HEAD when no version is given', async () => {
    const r = await buildRelease(opts());
    assert.equal(r.version, '1.2.3');
  });

  test('a v-prefixed tag is found and normalised, with a note', async () => {
    const dir = await makeRepo(base, 'vtag', { version: '2.0.0' });
    git(dir, ['tag', '-d', '1.2.3']);
    git(dir, ['tag', '-a', '-m', 'release', 'v2.0.0']);
    for (const version of ['v2.0.0', '2.0.0', undefined]) {
      const r = await buildRelease(opts({ root: dir, version, outDir: join(base, 'out-v') }));
      assert.equal(r.version, '2.0.0');
      assert.equal(r.tag, 'v2.0.0');
      assert.deepEqual(r.notes, ['tag "v2.0.0" read as version 2.0.0'], String(version));
      assert.equal(r.tarball, join(base, 'out-v', 'hello-2.0.0.tar.gz'));
    }
  });

  test('a missing tag is an error that lists the latest tags', async () => {
    const dir = await makeRepo(base, 'tags');
    for (const t of ['1.0.0', '1.1.0', 'v1.3.0-rc.1', '1.2.4', '0.9.0', 'not-a-version']) git(dir, ['tag', t]);
    await assert.rejects(buildRelease(opts({ root: dir, version: '9.9.9' })), (err: unknown) => {
      assert.ok(err instanceof BuildError);
      // A version named on the command line that has no tag: bad input, exit 2.
      assert.equal(err.usage, true);
      assert.match(err.message, /no git tag 9\.9\.9 \(or v9\.9\.9\)/);
      assert.match(err.message, /v1\.3\.0-rc\.1, 1\.2\.4, 1\.2\.3, 1\.1\.0, 1\.0\.0$/);
      return true;
    });
  });

  test('a bad version is a usage error', async () => {
    for (const v of ['1.2', 'latest', '^1.2.3', '01.2.3']) {
      await assert.rejects(buildRelease(opts({ version: v })), (err: unknown) => err instanceof BuildError && err.usage && /not a version/.test(err.message), v);
    }
  });

  test('HEAD without a version tag is a clear error', async () => {
    const dir = await makeRepo(base, 'notag');
    git(dir, ['tag', '-d', '1.2.3']);
    await assert.rejects(buildRelease(opts({ root: dir })), /HEAD has no version tag/);
  });

  test('package.json at the tag must agree with the version', async () => {
    const dir = await makeRepo(base, 'pkg', { version: '1.2.4' });
    await assert.rejects(buildRelease(opts({ root: dir, version: '1.2.3' })), /package\.json at tag 1\.2\.3 says version 1\.2\.4/);
  });

  test('a failing build command shows its exit code and last lines', async () => {
    const cmd = 'for i in $(seq 1 30); do echo line $i; done; echo oops >&2; exit 3';
    const lines: string[] = [];
    await assert.rejects(buildRelease(opts({ version: '1.2.3', config: config({ command: cmd }), log: (l) => lines.push(l) })), (err: unknown) => {
      assert.ok(err instanceof BuildError);
      assert.match(err.message, /exit code 3/);
      assert.match(err.message, /oops/);
      assert.match(err.message, /line 30/);
      assert.doesNotMatch(err.message, /line 10\n/);
      return true;
    });
    assert.ok(lines.includes('line 1'));
    assert.equal(git(repo, ['worktree', 'list']).trim().split('\n').length, 1, 'worktree removed after a failure');
  });

  test('a build command runs in the worktree and its output can be included; array commands run directly', async () => {
    const r = await buildRelease(opts({
      version: '1.2.3',
      config: config({ command: ['sh', '-c', 'mkdir -p dist && echo "$SLIPWAY_VERSION $SOURCE_DATE_EPOCH" > dist/out.txt'], include: ['dist', 'server.js'] }),
    }));
    const entries = await readTarball(r.tarball);
    assert.equal(entries.find((e) => e.path === 'dist/out.txt')?.body, `1.2.3 ${Date.parse('2026-01-02T03:04:05Z') / 1000}\n`);
  });

  test('a build command that runs too long is stopped', async () => {
    const cfg = config({ command: 'echo start; sleep 30' });
    cfg.build.timeout_s = 0.5;
    await assert.rejects(buildRelease(opts({ version: '1.2.3', config: cfg })), /took longer than build.timeout_s/);
  });

  test('uncommitted changes and untracked files neither block nor leak into the build', async () => {
    const clean = await buildRelease(opts({ version: '1.2.3', outDir: join(base, 'out-clean') }));
    await writeFile(join(repo, 'server.js'), 'MODIFIED\n');
    await writeFile(join(repo, 'lib/untracked.js'), 'untracked\n');
    try {
      const r = await buildRelease(opts({ version: '1.2.3', outDir: join(base, 'out-dirty') }));
      const entries = await readTarball(r.tarball);
      assert.equal(entries.find((e) => e.path === 'server.js')?.body, 'console.log("hello");\n');
      assert.equal(entries.find((e) => e.path === 'lib/untracked.js'), undefined);
      assert.equal(r.sha256, clean.sha256);
      assert.equal(await readFile(join(repo, 'server.js'), 'utf8'), 'MODIFIED\n', 'the operator\'s tree is untouched');
    } finally {
      git(repo, ['checkout', '--', 'server.js']);
      await rm(join(repo, 'lib/untracked.js'));
    }
  });

  test('moving a tag to another commit gives another sha256', async () => {
    const dir = await makeRepo(base, 'moved');
    const first = await buildRelease(opts({ root: dir, version: '1.2.3', outDir: join(base, 'out-m1') }));
    await writeFile(join(dir, 'server.js'), 'console.log("fixed");\n');
    git(dir, ['commit', '-q', '-am', 'fix'], '2026-01-03T00:00:00Z');
    git(dir, ['tag', '-f', '1.2.3']);
    const second = await buildRelease(opts({ root: dir, version: '1.2.3', outDir: join(base, 'out-m1') }));
    assert.notEqual(second.commit, first.commit);
    assert.notEqual(second.sha256, first.sha256);
    assert.equal(second.sourceDate, '2026-01-03T00:00:00Z');
  });

  test('include problems: missing entries, "..", absolute paths, links out of the release', async () => {
    await assert.rejects(buildRelease(opts({ version: '1.2.3', config: config({ include: ['server.js', 'nope'] }) })), /"nope" does not exist/);
    await assert.rejects(buildRelease(opts({ version: '1.2.3', config: config({ include: ['../etc'] }) })), (e: unknown) => e instanceof BuildError && e.usage && /contains "\.\."/.test(e.message));
    await assert.rejects(buildRelease(opts({ version: '1.2.3', config: config({ include: ['/etc/passwd'] }) })), /is absolute/);
    const dir = await makeRepo(base, 'links');
    await symlink('../../outside', join(dir, 'lib/out.js'));
    await writeFile(join(dir, 'package.json'), '{}');
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', 'link out']);
    git(dir, ['tag', '1.2.4']);
    await assert.rejects(buildRelease(opts({ root: dir, version: '1.2.4' })), /symlink lib\/out\.js -> \.\.\/\.\.\/outside points outside the release/);
    const leftovers = (await readdir(join(base, 'out'))).filter((f) => f.startsWith('.tmp'));
    assert.deepEqual(leftovers, []);
  });

  test('an app in a subdirectory of the repository builds from that directory', async () => {
    const dir = join(base, 'mono');
    await mkdir(join(dir, 'apps/web'), { recursive: true });
    git(dir, ['init', '-q']);
    await writeFile(join(dir, 'apps/web/server.js'), 'web\n');
    await writeFile(join(dir, 'apps/web/package.json'), '{"version":"3.0.0"}\n');
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', 'mono']);
    git(dir, ['tag', '3.0.0']);
    const r = await buildRelease(opts({ root: join(dir, 'apps/web'), version: '3.0.0', config: config({ include: ['server.js'] }) }));
    const entries = await readTarball(r.tarball);
    assert.deepEqual(entries.map((e) => [e.path, e.body]).slice(1), [['server.js', 'web\n']]);
  });
});
