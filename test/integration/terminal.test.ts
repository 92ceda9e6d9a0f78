// What an operator sees on a real terminal: the CLI runs inside tmux (a real
// pseudo-terminal, so stderr.isTTY is true and the progress bars are drawn),
// and the test reads the screen tmux shows, scroll-back included, not the
// bytes the program wrote. Piped output is tested elsewhere (failures.test.ts).
// The successful deploy's lines were lost on a terminal before 4f7780e (the
// bars' log held them until a redraw that never came): this test failed there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, makeAppRepo, startAgents, stopAgents, cleanup, cli, waitFor, type AppRepo } from '../helpers/env.js';
import { CLI_BIN, type LocalAgent } from '../../scripts/local-fleet.js';

let dir: string;
let agents: LocalAgent[];
let repo: AppRepo;
const socket = `slipway-terminal-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

before(async () => {
  dir = tempDir('terminal');
  agents = await startAgents(dir, 2);
  repo = await makeAppRepo(dir, agents.map((a) => a.address));
});

after(async () => {
  try { tmux('kill-server'); } catch { /* no server left */ }
  await stopAgents(agents);
  cleanup(dir);
});

/**
 * Runs the CLI in a new tmux window of the given size and returns the whole
 * screen (scroll-back included) once the command has ended, and its exit code.
 */
async function onScreen(name: string, columns: number, args: string[]): Promise<{ code: number; screen: string }> {
  const script = join(dir, `${name}.sh`);
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // The exit code is printed after the command; the shell then waits so that the pane stays readable.
  writeFileSync(script, `cd '${repo.dir}' && unset NO_COLOR && TERM=xterm-256color '${process.execPath}' '${CLI_BIN}' ${quoted}\necho "[exit $?]"\nexec sleep 600\n`);
  tmux('new-session', '-d', '-s', name, '-x', String(columns), '-y', '40', 'sh', script);
  tmux('set-option', '-t', name, 'history-limit', '5000');
  const screen = await waitFor(() => {
    const text = tmux('capture-pane', '-p', '-J', '-S', '-', '-t', name);
    return /\[exit \d+\]/.test(text) ? text : undefined;
  }, `the command in tmux window ${name} to end`, 120_000);
  tmux('kill-session', '-t', name);
  return { code: Number(/\[exit (\d+)\]/.exec(screen)![1]), screen };
}

test('on a terminal, a successful deploy shows every host\'s ready and done lines beside the upload bars', async () => {
  repo.release('1.0.0');
  assert.equal((await cli(repo.dir, 'build', '1.0.0')).code, 0);
  const { code, screen } = await onScreen('ok', 160, ['deploy', 'staging', '1.0.0']);
  assert.equal(code, 0, screen);
  for (const host of agents.map((a) => a.address)) {
    assert.match(screen, new RegExp(`${host.replace(/\./g, '\\.')}\\s+\\+\\d+\\.\\d\\ds ready`), `${host}'s ready line on the screen:\n${screen}`);
    assert.match(screen, new RegExp(`${host.replace(/\./g, '\\.')}\\s+\\+\\d+\\.\\d\\ds done`), `${host}'s done line on the screen:\n${screen}`);
  }
  assert.match(screen, /uploaded \d/, screen);
});

test('on an 80-column terminal, a failed deploy shows the failure and the app\'s last output, not only the table', async () => {
  repo.release('1.0.1', { 'server.js': 'console.error("boom: missing DATABASE_URL");\nprocess.exit(1);\n' });
  assert.equal((await cli(repo.dir, 'build', '1.0.1')).code, 0);
  const { code, screen } = await onScreen('failed', 80, ['deploy', 'staging', '1.0.1']);
  assert.equal(code, 1, screen);
  assert.match(screen, /failed/, screen);
  assert.match(screen, /\| boom: missing DATABASE_URL/, `the app's own error line on the screen:\n${screen}`);
  assert.match(screen, /exited with code 1/, screen);
});
