// common/version.ts and common/names.ts
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions, isVersion, normaliseTag, parseVersion } from '../../common/version.js';
import { appNameProblem, printable, releaseDirName, sha256Problem, versionProblem } from '../../common/names.js';
import { latestTagsHint, packageVersionProblem, parseRequestedVersion, pickHeadTag, versionTagsNewestFirst } from '../../coordinator/build/tags.js';
import { BuildError } from '../../coordinator/build/errors.js';

describe('parseVersion', () => {
  test('accepts exact semver', () => {
    for (const v of ['0.0.0', '1.2.3', '10.20.30', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-0.3.7', '1.0.0-x.7.z.92', '1.0.0+20130313144700', '1.0.0-beta+exp.sha.5114f85', '1.0.0-x-y-z.--']) {
      assert.ok(isVersion(v), v);
    }
    assert.deepEqual(parseVersion('1.2.3-rc.1+b.7'), { major: 1, minor: 2, patch: 3, prerelease: ['rc', '1'], build: 'b.7', raw: '1.2.3-rc.1+b.7' });
  });

  test('rejects partial versions, leading zeros, a "v", ranges and junk', () => {
    for (const v of ['', '1', '1.2', '01.2.3', '1.02.3', '1.2.03', 'v', 'v1.2.3', '1.2.3-01', '1.2.3-', '1.2.3+', '^1.2.3', '~1.2.3', '>=1.2.3', '1.2.x', '1.2.*', '1.2.3 - 2.0.0', '1.2.3 ', ' 1.2.3', '1.2.3\n', 'latest', '9007199254740993.0.0', '1.2.3-a..b', `1.2.3-${'a'.repeat(130)}`]) {
      assert.equal(isVersion(v), false, JSON.stringify(v));
    }
  });
});

describe('compareVersions', () => {
  test('semver precedence, including pre-releases (semver.org §11)', () => {
    const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.1.0', '1.10.0', '2.0.0-0', '2.0.0'];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        const c = compareVersions(ordered[i], ordered[j]);
        assert.equal(Math.sign(c), Math.sign(i - j), `${ordered[i]} vs ${ordered[j]}`);
      }
    }
  });

  test('numeric identifiers rank below alphanumeric ones, and compare as numbers even past 2^53', () => {
    assert.ok(compareVersions('1.0.0-1', '1.0.0-a') < 0);
    assert.ok(compareVersions('1.0.0-9', '1.0.0-10') < 0);
    assert.ok(compareVersions('1.0.0-9007199254740993', '1.0.0-9007199254740992') > 0);
  });

  test('build metadata does not count', () => {
    assert.equal(compareVersions('1.0.0+a', '1.0.0+b'), 0);
    assert.equal(compareVersions('1.0.0-rc.1+a', '1.0.0-rc.1'), 0);
  });

  test('throws for something that is not a version', () => {
    assert.throws(() => compareVersions('1.2', '1.2.3'), /not semver/);
  });
});

describe('normaliseTag', () => {
  test('a plain version is kept as it is, without a note', () => {
    assert.deepEqual(normaliseTag('1.2.3'), { version: '1.2.3' });
  });
  test('a v-prefixed tag is read as the version, and says so', () => {
    assert.deepEqual(normaliseTag('v1.2.3-rc.1'), { version: '1.2.3-rc.1', note: 'tag "v1.2.3-rc.1" read as version 1.2.3-rc.1' });
  });
  test('anything else is undefined', () => {
    for (const t of ['v', 'V1.2.3', 'vv1.2.3', 'v1.2', 'release-1.2.3', '1.2', 'v01.2.3']) assert.equal(normaliseTag(t), undefined, t);
  });
});

describe('names', () => {
  test('app names', () => {
    assert.equal(appNameProblem('hello-world_2'), undefined);
    assert.equal(appNameProblem(''), 'app name is missing');
    assert.equal(appNameProblem(undefined), 'app name is missing');
    for (const bad of ['Hello', '-x', '_x', 'a'.repeat(64), 'a/b', 'a b', '../x']) assert.match(appNameProblem(bad) ?? '', /not valid/, bad);
    assert.equal(appNameProblem('a'.repeat(63)), undefined);
  });
  test('versions and digests', () => {
    assert.equal(versionProblem('1.2.3'), undefined);
    assert.match(versionProblem('v1.2.3') ?? '', /not exact semver/);
    assert.equal(versionProblem(3), 'version is missing');
    assert.equal(sha256Problem('a'.repeat(64)), undefined);
    assert.match(sha256Problem('A'.repeat(64)) ?? '', /64 lowercase hex/);
    assert.match(sha256Problem('a'.repeat(63)) ?? '', /64 lowercase hex/);
  });
  test('printable cuts and escapes untrusted text', () => {
    assert.equal(printable('a\nb\u0000c'), 'a?b?c');
    assert.equal(printable('x'.repeat(100), 10), `${'x'.repeat(10)}…`);
    assert.equal(releaseDirName('1.2.3', 'abcdef0123456789'.repeat(4)), '1.2.3-abcdef012345');
  });
});

describe('build tag decisions', () => {
  test('the requested version: exact, v-prefixed, or a usage error', () => {
    assert.deepEqual(parseRequestedVersion('1.2.3'), { version: '1.2.3', notes: [] });
    assert.deepEqual(parseRequestedVersion('v1.2.3'), { version: '1.2.3', notes: ['tag "v1.2.3" read as version 1.2.3'] });
    for (const bad of ['1.2', 'v', '01.2.3', '^1.0.0', '1.x']) {
      assert.throws(() => parseRequestedVersion(bad), (e: unknown) => e instanceof BuildError && e.usage, bad);
    }
  });

  test('version tags newest first; the hint shows five', () => {
    const tags = ['1.0.0', 'v2.0.0', 'junk', '1.10.0', '1.9.0', '2.0.0-rc.1', '0.1.0', 'v1.2.3'];
    assert.deepEqual(versionTagsNewestFirst(tags), ['v2.0.0', '2.0.0-rc.1', '1.10.0', '1.9.0', 'v1.2.3', '1.0.0', '0.1.0']);
    assert.equal(latestTagsHint(tags), '; the latest version tags are: v2.0.0, 2.0.0-rc.1, 1.10.0, 1.9.0, v1.2.3');
    assert.equal(latestTagsHint(['junk']), '; this repository has no version tags yet');
  });

  test('the tag on HEAD', () => {
    assert.deepEqual(pickHeadTag(['junk', '1.2.3'], []), { tag: '1.2.3', version: '1.2.3', notes: [] });
    assert.deepEqual(pickHeadTag(['v1.2.3', '1.2.3'], []), { tag: '1.2.3', version: '1.2.3', notes: [] });
    assert.deepEqual(pickHeadTag(['v1.2.3'], []), { tag: 'v1.2.3', version: '1.2.3', notes: ['tag "v1.2.3" read as version 1.2.3'] });
    assert.throws(() => pickHeadTag(['junk'], ['1.0.0']), /HEAD has no version tag.*1\.0\.0/);
    assert.throws(() => pickHeadTag(['1.2.3', '1.2.4'], []), /several version tags \(1\.2\.3, 1\.2\.4\)/);
  });

  test('package.json at the tag', () => {
    assert.equal(packageVersionProblem(undefined, '1.2.3', '1.2.3'), undefined);
    assert.equal(packageVersionProblem('{"name":"x"}', '1.2.3', '1.2.3'), undefined);
    assert.equal(packageVersionProblem('{"version":"1.2.3"}', '1.2.3', 'v1.2.3'), undefined);
    assert.match(packageVersionProblem('{"version":"1.2.4"}', '1.2.3', '1.2.3') ?? '', /^package\.json at tag 1\.2\.3 says version 1\.2\.4/);
    assert.match(packageVersionProblem('{oops', '1.2.3', '1.2.3') ?? '', /not valid JSON/);
  });
});
