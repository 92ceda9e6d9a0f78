// Who each app runs as (agent/runtime/app-users.ts): the per-app user's
// name, the choice between app_user, app_users: per_app and the map, the
// config's rules, --check's findings and forApp's errors against a passwd
// file of the test's own (so nothing of the host's users is touched), and
// the hand-over of an app's dirs to a new user (agent/runtime/app-dirs.ts;
// as root, with uids nobody has: chown needs no user to exist).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lchownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppUsers, perAppUserName, userFor, useraddArgv } from '../../agent/runtime/app-users.js';
import { chownArgv, ensureAppDirs } from '../../agent/runtime/app-dirs.js';
import { agentConfigSchema } from '../../agent/config.js';
import { parseConfigText, ConfigError } from '../../common/config-file.js';
import { SlipwayError } from '../../common/errors.js';

const isRoot = process.getuid?.() === 0;

test('the per-app user: slipway-<app>, at most 32 characters (a long name cut, with a hash that keeps it unique)', () => {
  assert.equal(perAppUserName('hello'), 'slipway-hello');
  assert.equal(perAppUserName('a'.repeat(24)), `slipway-${'a'.repeat(24)}`);
  const long1 = perAppUserName(`${'billing-'.repeat(6)}one`);
  const long2 = perAppUserName(`${'billing-'.repeat(6)}two`);
  assert.ok(long1.length <= 32 && long2.length <= 32, `${long1} ${long2}`);
  assert.notEqual(long1, long2);
  assert.match(long1, /^slipway-billing-billing-[0-9a-f]{8}$/);
  assert.deepEqual(useraddArgv('slipway-hello', 'hello', '/var/lib/slipway/apps/hello/data'), [
    'useradd', '--system', '--user-group', '--no-create-home', '--home-dir', '/var/lib/slipway/apps/hello/data', '--shell', '/usr/sbin/nologin', '--comment', 'slipway app hello', 'slipway-hello',
  ]);
});

test('userFor: per_app for every app; the map for the apps it names, app_user for the others; none: as the agent', () => {
  assert.deepEqual(userFor('web', { app_users: 'per_app' }), { name: 'slipway-web', make: true });
  assert.deepEqual(userFor('web', { app_user: 'apps', app_users: { billing: 'billing-svc' } }), { name: 'apps', make: false });
  assert.deepEqual(userFor('billing', { app_user: 'apps', app_users: { billing: 'billing-svc' } }), { name: 'billing-svc', make: false });
  assert.deepEqual(userFor('web', { app_user: 'apps' }), { name: 'apps', make: false });
  assert.equal(userFor('web', {}), undefined);
});

test('agent config: app_users is per_app or a map; per_app with app_user, or a map without it, is refused with the reason', () => {
  const base = 'listen: 127.0.0.1:7070\ntls: { insecure: true }\n';
  const parse = (extra: string) => parseConfigText(`${base}${extra}`, agentConfigSchema, 'agent.yaml');
  assert.equal(parse('app_users: per_app\n').app_users, 'per_app');
  assert.deepEqual(parse('app_user: apps\napp_users: { billing: billing-svc }\n').app_users, { billing: 'billing-svc' });
  const refused = (extra: string, re: RegExp) => assert.throws(() => parse(extra), (e: ConfigError) => e.problems.some((p) => re.test(p)), extra);
  refused('app_user: apps\napp_users: per_app\n', /app_users: per_app gives every app its own user, so app_user \(apps\) would name nobody's: remove one of them/);
  refused('app_users: { billing: billing-svc }\n', /set app_user too, for the apps it does not name/);
  refused('app_users: everyone\n', /app_users is per_app, or a map of app names to user names/);
  refused('app_user: apps\napp_users: { Billing: billing-svc }\n', /not an app name/);
  refused('app_user: apps\napp_users: { billing: "Billing Svc" }\n', /not a user name/);
});

/** An AppUsers that believes it is root and reads the test's passwd file. */
function withPasswd(lines: string[], config: ConstructorParameters<typeof AppUsers>[0]): { users: AppUsers; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-app-users-'));
  const passwdFile = join(dir, 'passwd');
  writeFileSync(passwdFile, `${lines.join('\n')}\n`);
  return { users: new AppUsers(config, { dataDir: (app) => join(dir, app, 'data'), isRoot: true, passwdFile }), done: () => rmSync(dir, { recursive: true, force: true }) };
}

const PASSWD = ['root:x:0:0:root:/root:/bin/bash', 'apps:x:990:990::/home/apps:/usr/sbin/nologin', 'billing-svc:x:991:991::/srv/billing:/usr/sbin/nologin', 'slipway-web:x:992:992:slipway app web:/var/lib/slipway/apps/web/data:/usr/sbin/nologin', 'toor:x:0:0::/:/bin/sh'];

test('--check: each named user found with its uid; a missing one or one with uid 0 fails with what to do', async () => {
  const { users, done } = withPasswd(PASSWD, { app_user: 'apps', app_users: { billing: 'billing-svc', reports: 'reporter', admin: 'toor' } });
  try {
    const f = await users.check();
    assert.deepEqual(f.map((x) => [x.what, x.ok]), [['app_user', true], ['app_users.billing', true], ['app_users.reports', false], ['app_users.admin', false]]);
    assert.equal(f[0].detail, 'apps (uid 990)');
    assert.match(f[2].detail, /user "reporter" does not exist on this host; create it \(useradd --system --no-create-home --shell \/usr\/sbin\/nologin reporter\) or change app_users\.reports/);
    assert.match(f[3].detail, /uid 0: apps would run as root/);
    assert.equal(users.unprivileged, true);
    assert.equal(users.perApp, false);
    assert.deepEqual((await users.named()).map((u) => u.name), ['apps', 'billing-svc', 'toor']);
  } finally {
    done();
  }
});

test('--check with per_app: the users there and those to be made; not root: nothing applies', async () => {
  const { users, done } = withPasswd(PASSWD, { app_users: 'per_app' });
  try {
    const f = await users.check(['web', 'shop']);
    assert.equal(f.length, 1);
    assert.equal(f[0].what, 'app_users');
    assert.match(f[0].detail, /per_app: each app runs as its own user, slipway-<app> \(users there: slipway-web \(uid 992\); made at their app's start: slipway-shop\)/);
    assert.equal(users.perApp, true);
  } finally {
    done();
  }
  const notRoot = new AppUsers({ app_users: 'per_app' }, { dataDir: () => '/x', isRoot: false });
  assert.equal(notRoot.unprivileged, false);
  assert.equal(await notRoot.forApp('web'), undefined);
  assert.match((await notRoot.check())[0].detail, /not used: the agent does not run as root/);
});

test('forApp: the app\'s user from passwd; a missing map user or app_user is a clear error naming the key; uid 0 refused', async () => {
  const { users, done } = withPasswd(PASSWD, { app_user: 'apps', app_users: { billing: 'billing-svc', reports: 'reporter', admin: 'toor' } });
  try {
    assert.deepEqual(await users.forApp('billing'), { name: 'billing-svc', uid: 991, gid: 991, home: '/srv/billing' });
    assert.equal((await users.forApp('web'))?.uid, 990);
    await assert.rejects(users.forApp('reports'), (e: SlipwayError) => e.code === 'SLIPWAY_ERR_HOST_SETUP'
      && /reports runs as user "reporter" \(agent config app_users\.reports\), which does not exist on this host; create it/.test(e.message));
    await assert.rejects(users.forApp('admin'), /uid 0: apps would run as root/);
  } finally {
    done();
  }
  const perApp = withPasswd(PASSWD, { app_users: 'per_app' });
  try {
    assert.equal((await perApp.users.forApp('web'))?.uid, 992, 'a per-app user already there is used as it is');
  } finally {
    perApp.done();
  }
});

test('the hand-over command follows no symlink and takes only what the old owner owned', () => {
  assert.deepEqual(chownArgv('/s/apps/web/data', 990, { uid: 992, gid: 992 }), ['chown', '-R', '-P', '--no-dereference', '--from=990', '992:992', '--', '/s/apps/web/data']);
});

test('ensureAppDirs: made for the user (0700); after a user change the tree is handed over, symlinks not followed, others\' files kept', { skip: !isRoot && 'needs root (chown)' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-app-dirs-'));
  try {
    const dirs = { data: join(dir, 'app', 'data'), tmp: join(dir, 'app', 'tmp') };
    const old = { uid: 64_101, gid: 64_101 };
    const next = { uid: 64_102, gid: 64_102 };
    assert.deepEqual(await ensureAppDirs(dirs, old), [], 'made now: given to the user, nothing handed over');
    for (const d of [dirs.data, dirs.tmp]) {
      const st = lstatSync(d);
      assert.deepEqual([st.uid, st.gid, (st.mode & 0o777).toString(8)], [old.uid, old.gid, '700']);
    }
    // What the old user left: files, a subdir, a symlink out of the tree; and a root file beside them.
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'precious'), 'x');
    mkdirSync(join(dirs.data, 'sub'));
    writeFileSync(join(dirs.data, 'sub', 'f'), 'x');
    symlinkSync(outside, join(dirs.data, 'link'));
    writeFileSync(join(dirs.data, 'roots'), 'x');
    for (const p of [join(dirs.data, 'sub'), join(dirs.data, 'sub', 'f')]) chownSync(p, old.uid, old.gid);
    lchownSync(join(dirs.data, 'link'), old.uid, old.gid);
    chownSync(outside, old.uid, old.gid);
    chownSync(join(outside, 'precious'), old.uid, old.gid);

    const handed = await ensureAppDirs(dirs, next);
    assert.deepEqual(handed.map((h) => [h.dir, h.fromUid]), [[dirs.data, old.uid], [dirs.tmp, old.uid]]);
    for (const p of [dirs.data, join(dirs.data, 'sub'), join(dirs.data, 'sub', 'f'), join(dirs.data, 'link'), dirs.tmp]) {
      const st = lstatSync(p);
      assert.deepEqual([st.uid, st.gid], [next.uid, next.gid], p);
    }
    assert.equal(lstatSync(join(dirs.data, 'roots')).uid, 0, 'root\'s file is not the old user\'s: kept');
    assert.equal(lstatSync(join(outside, 'precious')).uid, old.uid, 'nothing behind the symlink changed hands');
    assert.equal(lstatSync(outside).uid, old.uid);
    assert.deepEqual(await ensureAppDirs(dirs, next), [], 'once only');
    // A symlink in the place of the dir is refused, not followed.
    rmSync(dirs.tmp, { recursive: true });
    symlinkSync(outside, dirs.tmp);
    await assert.rejects(ensureAppDirs(dirs, next), /tmp is not a directory \(a symlink or a file is in its place\)/);
    assert.equal(lstatSync(outside).uid, old.uid);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
