// The --json contract (docs/json-output.md) held by the real CLI against a
// real agent: every command prints exactly one JSON object on stdout with
// schema 1, its command and ok (true exactly when the exit code is 0; logs,
// a stream, one object per line); every
// key is snake_case, at any depth; an error is { error: { code, message,
// exit_code } } with a code the catalogue lists; and every command of
// `slipway --help` has its section in docs/json-output.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tempDir, makeAppRepo, startAgents, stopAgents, cleanup, cli, ROOT, type AppRepo } from '../helpers/env.js';
import type { LocalAgent } from '../../scripts/local-fleet.js';
import { ERROR_CATALOGUE } from '../../common/errors.js';

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;

before(async () => {
  dir = tempDir('json-output');
  agents = await startAgents(dir, 1);
  repo = await makeAppRepo(dir, agents.map((a) => a.address));
  const file = join(repo.dir, 'slipway.yaml');
  writeFileSync(file, `${readFileSync(file, 'utf8')}tasks:\n  hi: [sh, -c, "echo hi"]\n`);
  repo.release('1.0.0');
  repo.release('1.1.0');
});

after(async () => {
  await stopAgents(agents);
  cleanup(dir);
});

/** Map keys that are data, not the format's own words (environment variable names). */
const DATA_MAPS = new Set(['env', 'values']);

/** Every key at any depth that is not snake_case, with its path. */
function badKeys(v: unknown, path = ''): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => badKeys(x, `${path}[${i}]`));
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => {
    const here = path ? `${path}.${k}` : k;
    const own = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(k) ? [] : [here];
    return DATA_MAPS.has(k) ? own : [...own, ...badKeys(x, here)];
  });
}

/** Runs the CLI with --json; checks the contract every answer keeps; returns the object. */
async function json(command: string, ...args: string[]): Promise<Record<string, unknown>> {
  const r = await cli(repo.dir, ...args, '--json');
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`slipway ${args.join(' ')} --json: stdout is not one JSON object:\n${r.stdout}\n${r.stderr}`);
  }
  const what = `slipway ${args.join(' ')} --json`;
  assert.equal(obj.schema, 1, what);
  assert.equal(obj.command, command, what);
  assert.equal(obj.ok, r.code === 0, `${what}: ok is true exactly when the exit code (${r.code}) is 0`);
  assert.deepEqual(badKeys(obj), [], `${what}: keys not in snake_case`);
  if (obj.error !== undefined && obj.error !== null && r.code === 2) {
    const e = obj.error as { code?: string; message?: string; exit_code?: number };
    assert.ok(e.code && e.code in ERROR_CATALOGUE, `${what}: error.code ${e.code} is in the catalogue`);
    assert.ok(e.message, what);
    assert.equal(e.exit_code, 2, what);
  }
  return obj;
}

test('every command answers --json with one snake_case object: schema, command, ok; errors with a catalogued code', async () => {
  await json('build', 'build', '1.0.0');
  await json('build', 'build', '1.1.0');
  await json('deploy', 'deploy', 'staging', '1.0.0');
  await json('deploy', 'deploy', 'staging', '1.1.0');
  await json('status', 'status', 'staging');
  await json('status', 'status', 'staging', '--wide');
  await json('versions', 'versions', 'staging');
  await json('ping', 'ping', 'staging');
  await json('history', 'history', 'staging');
  // logs is a stream (--follow has no end): one object per line, each { schema, host, line }.
  const logs = await cli(repo.dir, 'logs', 'staging', '--lines', '5', '--json');
  assert.equal(logs.code, 0, logs.stderr);
  const lines = logs.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.length >= 1 && lines.length <= 5, logs.stdout);
  for (const l of lines) assert.deepEqual(Object.keys(l).sort(), ['host', 'line', 'schema'], JSON.stringify(l));
  await json('run', 'run', 'staging', 'hi');
  await json('env', 'env', 'staging', 'set', 'GREETING_NAME=x');
  await json('env', 'env', 'staging', 'list');
  await json('lock', 'lock', 'staging', '--reason', 'json test');
  await json('lock status', 'lock', 'status', 'staging');
  await json('unlock', 'unlock', 'staging');
  await json('restart', 'restart', 'staging');
  await json('rollback', 'rollback', 'staging');
  await json('prune', 'prune', 'staging');
  await json('stop', 'stop', 'staging');
  await json('start', 'start', 'staging');
  const keysDir = join(dir, 'keys-elsewhere');
  mkdirSync(keysDir);
  await json('keys generate', 'keys', 'generate', '--out', join(keysDir, 'release'));
  // Errors: usage and config (exit 2), each with its catalogued code.
  const unknownEnv = await json('status', 'status', 'nosuchenv');
  assert.equal((unknownEnv.error as { code: string }).code.startsWith('SLIPWAY_ERR_'), true);
  const unknownTag = await json('build', 'build', '9.9.9');
  assert.ok(unknownTag.error);
  const unknownTask = await json('run', 'run', 'staging', 'nosuch');
  assert.ok(unknownTask.error);
  // What commander refuses (an unknown option, a missing argument) is still one object.
  const badOption = await json('status', 'status', 'staging', '--no-such-option');
  assert.equal((badOption.error as { code: string }).code, 'SLIPWAY_ERR_USAGE');
  const missing = await json('deploy', 'deploy', 'staging');
  assert.equal((missing.error as { code: string }).code, 'SLIPWAY_ERR_USAGE');
  const subError = await json('lock status', 'lock', 'status', 'nosuchenv');
  assert.ok(subError.error);
});

test('every command of slipway --help has its --json section in docs/json-output.md', async () => {
  const doc = readFileSync(join(ROOT, 'docs', 'json-output.md'), 'utf8');
  const headings = doc.split('\n').filter((l) => l.startsWith('## ')).join('\n');
  const help = await cli(repo.dir, '--help');
  const commands = [...help.stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]).filter((c) => c !== 'help');
  assert.ok(commands.length > 15, help.stdout);
  const missing = commands.filter((c) => !new RegExp(`slipway ([a-z|]+\\|)?${c}\\b`).test(headings));
  assert.deepEqual(missing, [], 'commands without a section in docs/json-output.md');
});
