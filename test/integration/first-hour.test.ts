// A new operator's first hour, as the CLI meets it: secrets kept out of git,
// and exit codes that tell bad input (2) from a failure (1). Each case here
// failed before its fix (issue 13, items 2 and 6).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, cleanup, cli, git } from '../helpers/env.js';

let dir: string;

before(() => {
  dir = tempDir('first-hour');
});

after(() => cleanup(dir));

/** A git repository with one commit, as `git init` + a first commit leave it. */
function newRepo(name: string): string {
  const repo = join(dir, name);
  mkdirSync(repo, { recursive: true });
  writeFileSync(join(repo, 'package.json'), '{ "name": "shop", "version": "1.0.0" }\n');
  writeFileSync(join(repo, 'server.js'), 'require("node:http").createServer((q, s) => s.end("ok")).listen({ fd: 3 });\n');
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'first');
  return repo;
}

test('init, certs, keys and build, then git add -A: no private key and no tarball is staged', async () => {
  const repo = newRepo('all');
  const init = await cli(repo, 'init');
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /added \.slipway\/, \*\.key, \*-key\.pem to .*\.gitignore/);
  // No dependencies to install in this app (and no lock file for npm ci).
  const yaml = join(repo, 'slipway.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('command: npm ci --omit=dev', "command: 'true'").replace('include: [package.json, server.js, node_modules]', 'include: [package.json, server.js]'));
  for (const args of [['certs', 'init'], ['certs', 'issue', 'ci-1', '--client'], ['certs', 'issue', 'web-1', '--agent', '127.0.0.1'], ['keys', 'generate']]) {
    const r = await cli(repo, ...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'slipway');
  git(repo, 'tag', '1.0.0');
  const build = await cli(repo, 'build', '1.0.0');
  assert.equal(build.code, 0, build.stderr);
  assert.ok(existsSync(join(repo, '.slipway', 'releases')));
  git(repo, 'add', '-A');
  const tracked = git(repo, 'ls-files').split('\n');
  assert.deepEqual(tracked.filter((f) => /-key\.pem$|\.key$|^\.slipway\/|\.tar\.gz$/.test(f)), [], `tracked: ${tracked.join(', ')}`);
  // The public halves are meant to be shared, and are there.
  assert.ok(tracked.includes('certs/ca.pem') && tracked.includes('keys/release.pub'), tracked.join(', '));
  // A second init (forced) adds nothing twice.
  const again = await cli(repo, 'init', '--force');
  assert.equal(again.code, 0);
  const ignore = readFileSync(join(repo, '.gitignore'), 'utf8');
  assert.equal(ignore.match(/^\*\.key$/gm)?.length, 1, ignore);
});

test('a private key that git would commit is refused (exit 2) before anything is written; --allow-in-git or an ignored place allows it', async () => {
  const repo = newRepo('refuse');
  for (const [args, file] of [
    [['keys', 'generate'], 'keys/release.key'],
    [['certs', 'init'], 'certs/ca-key.pem'],
  ] as const) {
    const r = await cli(repo, ...args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`refusing to write .*${file.replace(/\./g, '\\.')} inside the git work tree`));
    assert.match(r.stderr, /--allow-in-git/);
    assert.match(r.stderr, /SLIPWAY_ERR_UNSAFE_FILE/);
    assert.equal(existsSync(join(repo, file.split('/')[0])), false, `${args.join(' ')} wrote nothing`);
  }
  // issue needs a CA: made with the flag, then a client key without it is refused too.
  assert.equal((await cli(repo, 'certs', 'init', '--allow-in-git')).code, 0);
  const issue = await cli(repo, 'certs', 'issue', 'ci-1', '--client');
  assert.equal(issue.code, 2, issue.stderr);
  assert.equal(existsSync(join(repo, 'certs', 'ci-1.pem')), false);
  // --json: the error as a document with its code.
  const json = await cli(repo, '--json', 'keys', 'generate');
  assert.equal(json.code, 2);
  assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'SLIPWAY_ERR_UNSAFE_FILE');
  // Outside any work tree: written as before.
  const outside = await cli(repo, 'keys', 'generate', '--out', join(dir, 'outside', 'release'));
  assert.equal(outside.code, 0, outside.stderr);
  // Ignored: written.
  writeFileSync(join(repo, '.gitignore'), 'secrets/\n');
  const ignored = await cli(repo, 'keys', 'generate', '--out', 'secrets/release');
  assert.equal(ignored.code, 0, ignored.stderr);
});

test('bad input exits 2: not a git repository, an unknown tag, unreadable TLS files', async () => {
  const plain = join(dir, 'not-git');
  mkdirSync(plain);
  assert.equal((await cli(plain, 'init')).code, 0);
  const notGit = await cli(plain, 'build', '1.0.0');
  assert.equal(notGit.code, 2, notGit.stderr);
  assert.match(notGit.stderr, /not inside a git repository/);

  const repo = newRepo('tags');
  assert.equal((await cli(repo, 'init')).code, 0);
  const unknownTag = await cli(repo, 'build', '9.9.9');
  assert.equal(unknownTag.code, 2, unknownTag.stderr);
  assert.match(unknownTag.stderr, /no git tag 9\.9\.9/);

  const yaml = join(repo, 'slipway.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/^tls: \{ insecure: true \}.*$/m, 'tls: { ca: nope/ca.pem, cert: nope/c.pem, key: nope/k.pem }'));
  const unreadable = await cli(repo, 'status', 'staging');
  assert.equal(unreadable.code, 2, unreadable.stderr);
  assert.match(unreadable.stderr, /cannot read the CA certificate \(tls\.ca\)/);
});
