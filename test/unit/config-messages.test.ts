// Config errors as an operator reads them: did-you-mean for mistyped keys and
// names, and no raw validator wording (issue 13, item 11).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { didYouMean, editDistance, knownKeysAt } from '../../common/config-messages.js';
import { parseConfigText, ConfigError } from '../../common/config-file.js';
import { slipwayConfigSchema } from '../../coordinator/config.js';
import { agentConfigSchema } from '../../agent/config.js';

const GOOD = 'app: shop\nbuild: { command: "true", include: [server.js] }\nrun: { command: [node, server.js] }\nenvironments:\n  staging: { hosts: [127.0.0.1:7070] }\ntls: { insecure: true }\n';

function problems(text: string, schema: Parameters<typeof parseConfigText>[1] = slipwayConfigSchema): string[] {
  try {
    parseConfigText(text, schema, 'slipway.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  return [];
}

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('keep_releses', 'keep_releases'), 1);
  assert.equal(editDistance('enviroments', 'environments'), 1);
  assert.equal(editDistance('tsl', 'tls'), 1);
  assert.equal(editDistance('', 'abc'), 3);
});

test('did you mean: the closest candidate within reach, or nothing', () => {
  assert.equal(didYouMean('keep_releses', ['keep_releases', 'listen']), 'keep_releases');
  assert.equal(didYouMean('prod', ['production', 'staging']), undefined);
  assert.equal(didYouMean('stagng', ['production', 'staging']), 'staging');
  assert.equal(didYouMean('Staging', ['staging']), 'staging');
  assert.equal(didYouMean('zzz', ['app', 'run']), undefined);
});

test('the keys a schema takes at a path, through defaults, optionals and records', () => {
  assert.ok(knownKeysAt(slipwayConfigSchema, []).includes('environments'));
  assert.ok(knownKeysAt(slipwayConfigSchema, ['environments', 'staging']).includes('hosts'));
  assert.ok(knownKeysAt(agentConfigSchema, []).includes('keep_releases'));
  assert.ok(knownKeysAt(agentConfigSchema, ['limits']).includes('release_bytes'));
});

test('unknown keys get a did-you-mean, at any depth', () => {
  assert.deepEqual(problems(GOOD.replace('environments:', 'enviroments:')).filter((p) => p.includes('unknown')), ['line 4: unknown key "enviroments" (did you mean "environments"?)']);
  assert.match(problems(GOOD.replace('{ hosts:', '{ hostz:')).join('\n'), /unknown key "environments\.staging\.hostz" \(did you mean "hosts"\?\)/);
  assert.deepEqual(problems('tls: { insecure: true }\nlisten: 127.0.0.1:7070\nkeep_releses: 3\n', agentConfigSchema), ['line 3: unknown key "keep_releses" (did you mean "keep_releases"?)']);
});

test('no raw validator wording: what is missing, what type is wanted, what range', () => {
  const missing = problems(GOOD.replace(/environments:\n.*\n/, ''));
  assert.ok(missing.includes('environments: is required: add it (a map (key: value))'), missing.join('\n'));
  const wrongType = problems(GOOD.replace('hosts: [127.0.0.1:7070]', 'hosts: 127.0.0.1:7070'));
  assert.ok(wrongType.some((p) => /environments\.staging\.hosts: must be a list, not string "127\.0\.0\.1:7070"/.test(p)), wrongType.join('\n'));
  const range = problems('tls: { insecure: true }\nlisten: 127.0.0.1:7070\nkeep_releases: 0\n', agentConfigSchema);
  assert.ok(range.some((p) => /keep_releases: must be at least 1/.test(p)), range.join('\n'));
  for (const p of [...missing, ...wrongType, ...range]) assert.doesNotMatch(p, /Invalid input|expected record|received undefined|Too small/, p);
});
