// The app lifecycle's transition table (agent/runtime/app-state.ts), every
// (state, event) pair of it: the next state, its reason where it says one,
// the effects, and which events are ignored or refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transition, APP_STATES, APP_EVENT_TYPES, type AppEvent, type AppEventType, type Lifecycle } from '../../agent/runtime/app-state.js';
import type { RestartDecision } from '../../agent/runtime/restart-policy.js';

const history = { crashes: [1000], consecutive: 1 };
const restartDecision: RestartDecision = { action: 'restart', delayMs: 150, history, reason: 'restarting in 150 ms' };
const loopDecision: RestartDecision = { action: 'crashloop', history, reason: '6 crashes within 60 s' };

/** The states as the table tells them apart: starting by whom. */
const STATES: Record<string, Lifecycle> = {
  stopped: { name: 'stopped', reason: 'stopped by ann' },
  'starting/operator': { name: 'starting', reason: '1.0.0', by: 'operator' },
  'starting/agent': { name: 'starting', reason: '1.0.0', by: 'agent' },
  running: { name: 'running', reason: '' },
  backoff: { name: 'backoff', reason: 'exited with code 1; restarting in 100 ms' },
  crashloop: { name: 'crashloop', reason: 'exited with code 1; 6 crashes within 60 s' },
  activating: { name: 'activating', reason: 'to 1.1.0' },
};

/** Each event, and its variants where the payload changes the outcome. */
const EVENTS: Record<string, AppEvent> = {
  activate: { type: 'activate', version: '1.1.0' },
  activation_done: { type: 'activation_done' },
  activation_restored: { type: 'activation_restored' },
  'activation_failed/serving': { type: 'activation_failed', version: '1.1.0', why: 'not ready', serving: true },
  'activation_failed/nothing': { type: 'activation_failed', version: '1.1.0', why: 'not ready', serving: false },
  'crashed/restart': { type: 'crashed', how: 'exited with code 1', decision: restartDecision },
  'crashed/crashloop': { type: 'crashed', how: 'exited with code 1', decision: loopDecision },
  restart_due: { type: 'restart_due', version: '1.0.0' },
  start: { type: 'start', version: '1.0.0' },
  ready: { type: 'ready' },
  'not_ready/alive': { type: 'not_ready', why: 'no READY=1 within 30 s', alive: true },
  'not_ready/exited': { type: 'not_ready', why: 'exited before it was ready', alive: false },
  start_failed: { type: 'start_failed', version: '1.0.0', why: 'ENOENT' },
  stop: { type: 'stop', by: 'bob' },
  reconciled_running: { type: 'reconciled_running' },
  reconciled_nothing: { type: 'reconciled_nothing', version: '1.0.0' },
  reconciled_idle: { type: 'reconciled_idle', reason: 'never activated' },
};

// Cells: '=' ignored (same state, no effects); '!' refused; else
// 'state[/by] effect effect …' with the effects in order.
const COLUMNS = ['stopped', 'starting/operator', 'starting/agent', 'running', 'backoff', 'crashloop', 'activating'] as const;
const A = 'activating cancel_restart';
const TABLE: Record<string, string[]> = {
  //                            stopped   starting/operator  starting/agent  running  backoff  crashloop  activating
  activate: [A, A, A, A, A, A, '!'],
  activation_done: ['!', '!', '!', '!', '!', '!', 'running reset_crashes'],
  activation_restored: ['!', '!', '!', '!', '!', '!', 'running'],
  'activation_failed/serving': ['!', '!', '!', '!', '!', '!', 'running'],
  'activation_failed/nothing': ['!', '!', '!', '!', '!', '!', 'stopped'],
  'crashed/restart': ['=', '=', 'backoff record_crash schedule_restart', 'backoff record_crash schedule_restart', '=', '=', 'activating record_crash'],
  'crashed/crashloop': ['=', '=', 'crashloop record_crash consider_rollback', 'crashloop record_crash consider_rollback', '=', '=', 'activating record_crash'],
  restart_due: ['=', '=', '=', '=', 'starting/agent start_release', '=', '='],
  start: Array(6).fill('starting/operator cancel_restart reset_crashes start_release').concat('!'),
  ready: ['=', 'running', 'running', '=', '=', '=', '='],
  'not_ready/alive': ['=', 'stopped stop_process', 'starting/agent stop_process report_crash', '=', '=', '=', '='],
  'not_ready/exited': ['=', 'stopped stop_process', '=', '=', '=', '=', '='],
  start_failed: ['=', 'stopped', 'crashloop', '=', '=', '=', '='],
  stop: Array(6).fill('stopped cancel_restart').concat('!'),
  reconciled_running: Array(6).fill('running cancel_restart').concat('!'),
  reconciled_nothing: ['starting/agent start_release', 'starting/agent start_release', 'starting/agent start_release', 'starting/agent start_release', '=', '=', '!'],
  reconciled_idle: Array(6).fill('stopped cancel_restart').concat('!'),
};

function describe(before: Lifecycle, e: AppEvent): string {
  const t = transition(before, e);
  if (t.refused) {
    assert.deepEqual(t.state, before, 'a refused event changes nothing');
    assert.deepEqual(t.effects, []);
    return '!';
  }
  if (t.effects.length === 0 && JSON.stringify(t.state) === JSON.stringify(before)) return '=';
  const name = t.state.name === 'starting' ? `starting/${t.state.by}` : t.state.name;
  return [name, ...t.effects.map((x) => x.kind)].join(' ');
}

test('the table covers every state and every event (with each payload that matters)', () => {
  assert.deepEqual(new Set(Object.values(STATES).map((s) => s.name)), new Set(APP_STATES));
  assert.deepEqual(new Set(Object.values(EVENTS).map((e) => e.type)), new Set<AppEventType>(APP_EVENT_TYPES));
  assert.deepEqual(Object.keys(TABLE).sort(), Object.keys(EVENTS).sort());
  for (const [event, row] of Object.entries(TABLE)) assert.equal(row.length, COLUMNS.length, event);
});

for (const [event, row] of Object.entries(TABLE)) {
  test(`transition: ${event} in each state`, () => {
    COLUMNS.forEach((state, i) => {
      assert.equal(describe(STATES[state], EVENTS[event]), row[i], `${event} in ${state}`);
    });
  });
}

test('transition: reasons say why', () => {
  const from = (s: keyof typeof STATES, e: keyof typeof EVENTS) => transition(STATES[s], EVENTS[e]).state.reason;
  assert.equal(from('running', 'activate'), 'to 1.1.0');
  assert.equal(from('activating', 'activation_failed/nothing'), 'activation of 1.1.0 failed: not ready');
  assert.equal(from('activating', 'activation_failed/serving'), '');
  assert.equal(from('running', 'crashed/restart'), 'exited with code 1; restarting in 150 ms');
  assert.equal(from('running', 'crashed/crashloop'), 'exited with code 1; 6 crashes within 60 s');
  assert.equal(from('starting/operator', 'not_ready/alive'), 'start failed: no READY=1 within 30 s');
  assert.equal(from('starting/operator', 'start_failed'), 'start failed: ENOENT');
  assert.equal(from('starting/agent', 'start_failed'), 'cannot start 1.0.0: ENOENT');
  assert.equal(from('running', 'stop'), 'stopped by bob');
  assert.equal(transition(STATES.running, { type: 'stop', by: '' }).state.reason, 'stopped by an operator');
  assert.equal(from('backoff', 'restart_due'), '1.0.0');
  assert.equal(from('running', 'reconciled_idle'), 'never activated');
  assert.match(transition(STATES.activating, EVENTS.activate).refused ?? '', /already in progress \(to 1\.1\.0\)/);
});

test('transition: effects carry the restart decision', () => {
  const t = transition(STATES.running, EVENTS['crashed/restart']);
  assert.deepEqual(t.effects, [
    { kind: 'record_crash', history },
    { kind: 'schedule_restart', delayMs: 150, why: 'exited with code 1; restarting in 150 ms' },
  ]);
  const loop = transition(STATES['starting/agent'], EVENTS['crashed/crashloop']);
  assert.deepEqual(loop.effects[1], { kind: 'consider_rollback', why: 'exited with code 1; 6 crashes within 60 s' });
  const unready = transition(STATES['starting/agent'], EVENTS['not_ready/alive']);
  assert.deepEqual(unready.effects[1], { kind: 'report_crash', how: 'no READY=1 within 30 s' });
});
