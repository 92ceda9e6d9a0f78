// The upload data port's wire format (common/upload-protocol.ts), the one
// definition the agent's data port and the coordinator's client share: the
// bytes stay what agents and clients of earlier versions send and expect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRequest, parseRequest, formatAnswer, parseAnswer, MAX_REQUEST_LINE, type UploadAnswer } from '../../common/upload-protocol.js';

const TOKEN = '0123456789abcdef'.repeat(4);

test('upload protocol: the request line is the protocol word, the token and a newline; it parses back to the token', () => {
  const line = formatRequest(TOKEN);
  assert.equal(line, `SLIPWAY-UPLOAD 1 ${TOKEN}\n`);
  assert.equal(parseRequest(line.slice(0, -1)), TOKEN);
  assert.ok(line.length <= MAX_REQUEST_LINE);
});

test('upload protocol: a line that is not a request has no token', () => {
  for (const line of [
    '',
    TOKEN,
    `SLIPWAY-UPLOAD 2 ${TOKEN}`,
    `slipway-upload 1 ${TOKEN}`,
    `SLIPWAY-UPLOAD 1 ${TOKEN.toUpperCase()}`,
    `SLIPWAY-UPLOAD 1 ${TOKEN.slice(1)}`,
    `SLIPWAY-UPLOAD 1 ${TOKEN}0`,
    `SLIPWAY-UPLOAD 1 ${TOKEN} `,
    `SLIPWAY-UPLOAD 1  ${TOKEN}`,
    `SLIPWAY-UPLOAD 1 ${TOKEN}\r`,
    `SLIPWAY-UPLOAD 1 ${TOKEN}${' '.repeat(MAX_REQUEST_LINE)}`,
  ]) {
    assert.equal(parseRequest(line), undefined, JSON.stringify(line));
  }
});

test('upload protocol: answers are one JSON line and parse back to themselves', () => {
  const answers: UploadAnswer[] = [
    { ok: true, sha256: 'a'.repeat(64), bytes_received: 12_345_678 },
    { ok: true, sha256: 'b'.repeat(64), bytes_received: 0 },
    { ok: false, code: 'PERMISSION_DENIED', message: 'the upload token is unknown, used or expired;\ncall BeginUpload again' },
    { ok: false, code: 'INVALID_ARGUMENT', message: 'sha256 differs', error_code: 'SLIPWAY_ERR_UPLOAD_MISMATCH' },
  ];
  for (const a of answers) {
    const line = formatAnswer(a);
    assert.ok(line.endsWith('\n'));
    assert.equal(line.indexOf('\n'), line.length - 1, 'a newline inside a message is escaped');
    assert.deepEqual(parseAnswer(line.slice(0, -1)), a);
  }
  assert.equal(formatAnswer(answers[0]!), `{"ok":true,"sha256":"${'a'.repeat(64)}","bytes_received":12345678}\n`);
  assert.equal(formatAnswer({ ok: false, code: 'INVALID_ARGUMENT', message: 'x' }), '{"ok":false,"code":"INVALID_ARGUMENT","message":"x"}\n');
});

test('upload protocol: a line that is not an answer parses to undefined', () => {
  for (const line of [
    '',
    'SLIPWAY-UPLOAD 1 ok',
    'null',
    '[true]',
    '"ok"',
    '{"ok":"true","sha256":"x","bytes_received":1}',
    '{"ok":true,"bytes_received":1}',
    '{"ok":true,"sha256":"x","bytes_received":"1"}',
    '{"ok":true,"sha256":"x","bytes_received":-1}',
    '{"ok":true,"sha256":"x","bytes_received":1.5}',
    '{"ok":false,"message":"no code"}',
    '{"ok":false,"code":"INTERNAL"}',
    '{"ok":false,"message":"no code","error_code":"SLIPWAY_ERR_INTERNAL"}',
    '{"sha256":"x","bytes_received":1}',
  ]) {
    assert.equal(parseAnswer(line), undefined, line);
  }
});
