// The error catalogue (common/errors.ts): complete in the docs, consistent,
// and what the agent and the CLI make of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CATALOGUE, ERROR_CODE_METADATA, SlipwayError, isErrorCode } from '../../common/errors.js';
import { toStatus } from '../../agent/transport/rpc.js';
import { UsageError } from '../../coordinator/errors.js';
import { ConfigError } from '../../common/config-file.js';
import { BuildError } from '../../coordinator/build/errors.js';
import { catalogued } from '../../coordinator/commands/common.js';

const DOC = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

test('docs/errors.md lists every catalogue code with its exit code, gRPC status, meaning and action, and nothing else', () => {
  const rows = DOC.split('\n').filter((l) => l.startsWith('| `SLIPWAY_ERR_'));
  const expected = Object.entries(ERROR_CATALOGUE).map(([code, s]) => `| \`${code}\` | ${s.exit} | ${s.grpc} | ${s.summary} | ${s.action} |`);
  assert.deepEqual(rows, expected);
});

test('every code is SLIPWAY_ERR_ in capitals, maps to a real gRPC status, and exits 1 or 2', () => {
  for (const [code, s] of Object.entries(ERROR_CATALOGUE)) {
    assert.match(code, /^SLIPWAY_ERR_[A-Z_]+$/);
    assert.equal(typeof grpc.status[s.grpc], 'number', `${code}: ${s.grpc}`);
    assert.ok(s.exit === 1 || s.exit === 2);
    assert.ok(s.summary.length > 10 && s.action.length > 5, code);
  }
  assert.equal(isErrorCode('SLIPWAY_ERR_LOCKED'), true);
  assert.equal(isErrorCode('FAILED_PRECONDITION'), false);
});

test('the agent answers with the catalogue status and sends the code in the trailers; a bug is INTERNAL with no stack sent', () => {
  const logged: unknown[] = [];
  const log = { error: (o: unknown) => logged.push(o) } as never;
  const st = toStatus(new SlipwayError('SLIPWAY_ERR_LOCKED', 'hello is locked by ci-1'), log, 'Activate');
  assert.equal(st.code, grpc.status.FAILED_PRECONDITION);
  assert.equal(st.details, 'hello is locked by ci-1');
  assert.deepEqual(st.metadata?.get(ERROR_CODE_METADATA), ['SLIPWAY_ERR_LOCKED']);
  assert.equal(logged.length, 0);
  const bug = toStatus(new TypeError('x is undefined'), log, 'Status');
  assert.equal(bug.code, grpc.status.INTERNAL);
  assert.deepEqual(bug.metadata?.get(ERROR_CODE_METADATA), ['SLIPWAY_ERR_INTERNAL']);
  assert.doesNotMatch(String(bug.details), /at .*\.ts/);
  assert.equal(logged.length, 1);
});

test('the CLI\'s own errors carry their codes and exit codes', () => {
  assert.equal(catalogued(new UsageError('--batch must be…')).code, 'SLIPWAY_ERR_USAGE');
  assert.equal(catalogued(new UsageError('x')).exitCode, 2);
  assert.equal(catalogued(new ConfigError('slipway.yaml', ['app: required'])).exitCode, 2);
  assert.equal(catalogued(new BuildError('git failed')).code, 'SLIPWAY_ERR_BUILD');
  assert.equal(catalogued(new BuildError('bad include', { usage: true })).exitCode, 2);
  const bug = catalogued(new TypeError('oops'));
  assert.equal(bug.code, 'SLIPWAY_ERR_INTERNAL');
  assert.equal(bug.exitCode, 1);
});
