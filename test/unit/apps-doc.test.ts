// docs/apps.md shows the example apps as they are: every `<!-- file: PATH -->`
// marker is followed by a code block equal to PATH, and every file of
// examples/apps/ is shown (test/integration/apps-lang.test.ts runs them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const doc = readFileSync(join(ROOT, 'docs', 'apps.md'), 'utf8');

/** PATH → the code block after its marker. */
function shown(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of doc.matchAll(/<!-- file: (\S+) -->\n```[a-z]*\n([\s\S]*?)```\n/g)) out.set(m[1], m[2]);
  return out;
}

function exampleFiles(): string[] {
  const base = join(ROOT, 'examples', 'apps');
  return readdirSync(base).flatMap((lang) => readdirSync(join(base, lang)).map((f) => `examples/apps/${lang}/${f}`)).sort();
}

test('every example file is in docs/apps.md, exactly as it is', () => {
  const blocks = shown();
  assert.deepEqual([...blocks.keys()].sort(), exampleFiles());
  for (const [path, text] of blocks) assert.equal(text, readFileSync(join(ROOT, path), 'utf8'), `${path} differs from its block in docs/apps.md`);
});

test('every marker is followed by its code block', () => {
  assert.equal((doc.match(/<!-- file: /g) ?? []).length, shown().size);
});
