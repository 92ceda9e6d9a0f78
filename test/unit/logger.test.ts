// The agent's log lines under journald: syslog priorities from pino's levels,
// and the JOURNAL_STREAM check (issue 13, item 13).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stdoutIsJournal, syslogPriority } from '../../agent/logger.js';

test('pino levels map to syslog priorities journald files them under', () => {
  assert.deepEqual([10, 20, 30, 40, 50, 60].map(syslogPriority), [7, 7, 6, 4, 3, 2]);
});

test('JOURNAL_STREAM counts only when it names this stdout', () => {
  assert.equal(stdoutIsJournal('2049:12345', { dev: 2049, ino: 12345 }), true);
  assert.equal(stdoutIsJournal('2049:12345', { dev: 2049, ino: 1 }), false);
  assert.equal(stdoutIsJournal(undefined, { dev: 2049, ino: 12345 }), false);
  assert.equal(stdoutIsJournal('', { dev: 2049, ino: 12345 }), false);
  assert.equal(stdoutIsJournal('2049:12345', undefined), false);
});
