// Shell completion in a real bash (issue 13, item 15): the script slipway
// prints is sourced, bash's completion function is called as bash would call
// it on Tab, and what it offers is checked: commands, subcommands, options,
// and the environments of the slipway.yaml in the current directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, cleanup, cli } from '../helpers/env.js';
import { CLI_BIN } from '../../scripts/local-fleet.js';

let dir: string;
let bin: string;

before(async () => {
  dir = tempDir('completion');
  bin = join(dir, 'bin');
  mkdirSync(bin);
  // `slipway` on PATH, as an installed CLI is: the script calls it for environment names.
  writeFileSync(join(bin, 'slipway'), `#!/bin/sh\nexec '${process.execPath}' '${CLI_BIN}' "$@"\n`);
  chmodSync(join(bin, 'slipway'), 0o755);
  assert.equal((await cli(dir, 'init', '--app', 'shop')).code, 0);
  const yaml = join(dir, 'slipway.yaml');
  writeFileSync(yaml, execFileSync('sed', ['s/^environments:$/environments:\\n  production:\\n    hosts: [10.0.0.5:7070]/', yaml], { encoding: 'utf8' }));
});

after(() => cleanup(dir));

/** What bash offers for the words typed so far (the last one being completed). */
function offered(...typed: string[]): string[] {
  const words = typed.map((w) => `'${w}'`).join(' ');
  const r = spawnSync('bash', ['-c', `source <(slipway completion bash) && COMP_WORDS=(${words}) && COMP_CWORD=${typed.length - 1} && _slipway && printf '%s\\n' "\${COMPREPLY[@]}"`], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

test('bash completes commands, subcommands, options and the environments of ./slipway.yaml', () => {
  assert.deepEqual(offered('slipway', 'dep'), ['deploy']);
  assert.ok(offered('slipway', '').includes('rollback'));
  const afterDeploy = offered('slipway', 'deploy', '');
  for (const w of ['production', 'staging', '--batch', '--host', '--help']) assert.ok(afterDeploy.includes(w), `${w} in ${afterDeploy.join(' ')}`);
  assert.ok(!afterDeploy.includes('rollback'), 'no command names after the command');
  assert.deepEqual(offered('slipway', 'deploy', 'pro'), ['production']);
  assert.deepEqual(offered('slipway', 'lock', 's'), ['staging', 'status']);
  assert.deepEqual(offered('slipway', 'lock', 'status', 'st'), ['staging']);
  assert.deepEqual(offered('slipway', 'certs', 'i'), ['init', 'issue']);
  assert.ok(offered('slipway', 'deploy', 'staging', '--b').includes('--batch'));
  assert.deepEqual(offered('slipway', '-c', 'slipway.yaml', 'dep'), ['deploy'], 'an option before the command is skipped');
});

test('slipway completion needs a shell it knows (exit 2); zsh and fish complete in those shells (.ci/run installs them)', async () => {
  const none = await cli(dir, 'completion');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /bash\|zsh\|fish/);
  assert.equal((await cli(dir, 'completion', 'tcsh')).code, 2);
  for (const shell of ['zsh', 'fish']) {
    const r = await cli(dir, 'completion', shell);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /slipway/);
    const has = spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
    if (!has) continue;
    const file = join(dir, `completion.${shell}`);
    writeFileSync(file, r.stdout);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
    // What the shell itself offers on Tab after "slipway dep" and "slipway deploy st".
    const script = shell === 'fish'
      ? `source '${file}'; complete -C'slipway dep'; complete -C'slipway deploy st'`
      // zsh runs bash-style functions (bashcompinit) in sh emulation: arrays from 0, as here with ksharrays.
      : `source '${file}' && setopt ksharrays && for t in 'slipway dep' 'slipway deploy st'; do COMP_WORDS=(\${=t}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _slipway; print -l -- "\${COMPREPLY[@]}"; done`;
    const run = spawnSync(shell, ['-c', script], { cwd: dir, encoding: 'utf8', env });
    assert.equal(run.status, 0, `${shell}: ${run.stderr}`);
    const words = run.stdout.split('\n').map((l) => l.split('\t')[0]).filter(Boolean);
    assert.ok(words.includes('deploy') && words.includes('staging'), `${shell} offered: ${run.stdout}`);
  }
});
