// The systemd unit and the installer: systemd-analyze verify and security on
// the unit, shellcheck on install.sh, and install.sh run into a temporary
// root twice (idempotent), then --uninstall, then --uninstall --purge,
// checking every file, owner and mode. CI (.ci/run) installs systemd and
// shellcheck where missing; systemd need not be PID 1 (both analyses work
// offline on a file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, tempDir, cleanup } from '../helpers/env.js';

const UNIT = join(ROOT, 'systemd', 'slipway-agent.service');
const INSTALL = join(ROOT, 'systemd', 'install.sh');

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** A copy of the unit whose ExecStart names an executable that exists (verify checks it). */
function unitCopy(dir: string): string {
  const bin = join(dir, 'slipway-agent');
  writeFileSync(bin, '#!/bin/sh\nexit 0\n');
  chmodSync(bin, 0o755);
  const file = join(dir, 'slipway-agent.service');
  writeFileSync(file, readFileSync(UNIT, 'utf8').replaceAll('/usr/local/bin/slipway-agent', bin));
  return file;
}

test('the unit passes systemd-analyze verify and has what the design asks for', { skip: !has('systemd-analyze') && 'systemd-analyze is not installed' }, () => {
  const dir = tempDir('unit');
  try {
    const r = spawnSync('systemd-analyze', ['verify', unitCopy(dir)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', `verify printed warnings:\n${r.stderr}`);
  } finally {
    cleanup(dir);
  }
  const text = readFileSync(UNIT, 'utf8');
  const settings = new Map<string, string>();
  const lines = text.split('\n');
  let section = '';
  lines.forEach((line, i) => {
    if (line.startsWith('[')) section = line;
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!m) return;
    settings.set(m[1], m[2]);
    // Every setting of [Service] carries a comment saying why (above it, or above its group of lines).
    if (section !== '[Service]') return;
    let j = i - 1;
    while (j >= 0 && /^[A-Za-z]+=/.test(lines[j])) j--;
    assert.ok(j >= 0 && lines[j].startsWith('#'), `${m[1]}= has no comment above it`);
  });
  for (const [k, v] of Object.entries({
    Restart: 'always', KillMode: 'process', LimitNOFILE: '1048576', StateDirectory: 'slipway', RuntimeDirectory: 'slipway',
    RuntimeDirectoryPreserve: 'yes', NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes',
    ProtectKernelTunables: 'yes', ProtectKernelModules: 'yes', RestrictSUIDSGID: 'yes',
  })) assert.equal(settings.get(k), v, `${k}=`);
  assert.equal(settings.get('MemoryDenyWriteExecute'), undefined, 'MemoryDenyWriteExecute kills V8');
});

test('docs/operating.md quotes the unit\'s current systemd-analyze security exposure', { skip: !has('systemd-analyze') && 'systemd-analyze is not installed' }, () => {
  const dir = tempDir('unit');
  try {
    const out = execFileSync('systemd-analyze', ['security', '--offline=true', unitCopy(dir)], { encoding: 'utf8' });
    const m = /Overall exposure level for \S+: (\d+\.\d) (\w+)/.exec(out);
    assert.ok(m, out.slice(-500));
    const docs = readFileSync(join(ROOT, 'docs', 'operating.md'), 'utf8');
    assert.ok(docs.includes(`exposure level ${m[1]} (${m[2]})`), `docs/operating.md should say "exposure level ${m[1]} (${m[2]})"`);
  } finally {
    cleanup(dir);
  }
});

test('install.sh and the launcher are shellcheck-clean', { skip: !has('shellcheck') && 'shellcheck is not installed' }, () => {
  const r = spawnSync('shellcheck', [INSTALL, join(ROOT, 'systemd', 'agent-launcher.sh')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout);
});

/** path relative to the root → "uid:gid mode" (symlinks and files alike), for every entry under root. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      out[relative(root, p)] = `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}${st.isDirectory() ? ' dir' : ''}`;
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

test('install.sh into a temporary root twice, then --uninstall keeps state, then --purge removes it', {
  skip: (process.getuid?.() !== 0 && 'install.sh needs root (it chowns)') || (!has('useradd') && 'useradd is not installed'),
}, () => {
  const root = tempDir('install-root');
  try {
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\n');
    const run = (...args: string[]) => execFileSync('sh', [INSTALL, '--root', root, ...args], { encoding: 'utf8' });

    const first = run('--bin', '/opt/slipway/bin/slipway-agent');
    assert.match(first, /created user slipway/);
    const passwd = readFileSync(join(root, 'etc', 'passwd'), 'utf8');
    const m = /^slipway:[^:]*:(\d+):(\d+):[^:]*:\/var\/lib\/slipway:\/usr\/sbin\/nologin$/m.exec(passwd);
    assert.ok(m, passwd);
    const gid = m[2];
    assert.match(readFileSync(join(root, 'etc', 'group'), 'utf8'), new RegExp(`^slipway:[^:]*:${gid}:`, 'm'));
    const expected = {
      etc: '0:0 755 dir',
      'etc/passwd': '0:0 644', 'etc/passwd-': '0:0 644', 'etc/group': '0:0 644', 'etc/group-': '0:0 644', // useradd's and its backups
      'etc/slipway': '0:0 750 dir',
      'etc/slipway/agent.yaml': '0:0 640',
      'etc/systemd': '0:0 755 dir',
      'etc/systemd/system': '0:0 755 dir',
      'etc/systemd/system/slipway-agent.service': '0:0 644',
      var: '0:0 755 dir',
      'var/lib': '0:0 755 dir',
      'var/lib/slipway': `0:${gid} 750 dir`,
      usr: '0:0 755 dir', 'usr/local': '0:0 755 dir', 'usr/local/lib': '0:0 755 dir', 'usr/local/lib/slipway': '0:0 755 dir',
      'usr/local/lib/slipway/agent-launcher.sh': '0:0 755',
    };
    // useradd may keep shadow files too where the root has them; this root has none.
    assert.deepEqual(tree(root), expected);
    const unit = readFileSync(join(root, 'etc/systemd/system/slipway-agent.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/bin\/sh \/usr\/local\/lib\/slipway\/agent-launcher.sh --home \/var\/lib\/slipway\/agent --installed \/opt\/slipway\/bin\/slipway-agent -- --config \/etc\/slipway\/agent.yaml$/m);
    assert.equal(readFileSync(join(root, 'usr/local/lib/slipway/agent-launcher.sh'), 'utf8'), readFileSync(join(ROOT, 'systemd', 'agent-launcher.sh'), 'utf8'));
    assert.equal(unit.replaceAll('/opt/slipway/bin/slipway-agent', '/usr/local/bin/slipway-agent'), readFileSync(UNIT, 'utf8'));
    const config = readFileSync(join(root, 'etc/slipway/agent.yaml'), 'utf8');
    assert.match(config, /^runtime_dir: \/run\/slipway$/m);
    assert.match(config, /^# /m);

    // The written config parses; --check then opens what it names, and the certificates are not there yet:
    // that, and only that, is what it reports (exit 2), naming the file to put in place.
    const check = spawnSync(process.execPath, [join(ROOT, 'dist', 'bin', 'slipway-agent.mjs'), '--config', join(root, 'etc/slipway/agent.yaml'), '--check'], { encoding: 'utf8' });
    assert.equal(check.status, 2, check.stdout + check.stderr);
    assert.match(check.stdout, /^FAIL tls: cannot read the CA certificate \(tls\.ca\) \/etc\/slipway\/\S+: ENOENT/m);
    // On this test machine (not the fake root) the user slipway and ports 7070/7071 may be missing or taken too.
    const failed = check.stdout.split('\n').filter((l) => l.startsWith('FAIL')).map((l) => l.slice(5, l.indexOf(':')));
    assert.deepEqual(failed.filter((k) => !['app_user', 'listen', 'http'].includes(k)), ['tls'], check.stdout);

    // Twice: nothing changes, and an operator's config is never overwritten.
    writeFileSync(join(root, 'etc/slipway/agent.yaml'), `${config}keep_releases: 3\n`);
    const second = run('--bin', '/opt/slipway/bin/slipway-agent');
    assert.doesNotMatch(second, /created|wrote|installed/);
    assert.deepEqual(tree(root), expected);
    assert.match(readFileSync(join(root, 'etc/slipway/agent.yaml'), 'utf8'), /keep_releases: 3\n$/);

    // State the agent wrote meanwhile.
    mkdirSync(join(root, 'var/lib/slipway/apps/hello'), { recursive: true });

    // --uninstall: the unit goes, the changed config and the state stay, and so does the user.
    const un = run('--uninstall');
    assert.match(un, /kept .*agent.yaml: it was changed/);
    const after = tree(root);
    assert.equal(after['etc/systemd/system/slipway-agent.service'], undefined);
    assert.equal(after['etc/slipway/agent.yaml'], '0:0 640');
    assert.equal(after['var/lib/slipway/apps/hello'], '0:0 755 dir');
    assert.match(readFileSync(join(root, 'etc', 'passwd'), 'utf8'), /^slipway:/m);

    // An unchanged config goes with --uninstall; --purge takes the state and the user too.
    run();
    run('--uninstall', '--purge');
    const purged = tree(root);
    for (const p of ['etc/slipway', 'var/lib/slipway', 'etc/systemd/system/slipway-agent.service', 'usr/local/lib/slipway']) assert.equal(purged[p], undefined, p);
    assert.doesNotMatch(readFileSync(join(root, 'etc', 'passwd'), 'utf8'), /^slipway:/m);
    assert.doesNotMatch(readFileSync(join(root, 'etc', 'group'), 'utf8'), /^slipway:/m);

    // And an install after a purge works from nothing again.
    run();
    run('--uninstall');
    assert.equal(tree(root)['etc/slipway'], undefined, 'an unchanged config and its empty directory are removed');
  } finally {
    cleanup(root);
  }
});
