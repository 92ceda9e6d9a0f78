// scripts/import-cycles.mjs (run by `npm run lint`): finds a circle through
// any kind of relative import, and nothing where there is none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
// @ts-expect-error: a plain .mjs script, without type declarations
import { importGraph, findCycles } from '../../scripts/import-cycles.mjs';

type Graph = Map<string, string[]>;
const graphOf = importGraph as (dirs: string[]) => Graph;
const cyclesOf = findCycles as (g: Graph) => string[][];

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cycles-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function circles(files: Record<string, string>): string[][] {
  const dir = tree(files);
  try {
    return cyclesOf(graphOf([dir])).map((c) => c.map((f) => relative(dir, f)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('import cycles: none in a tree whose imports go one way, comments and packages aside', () => {
  assert.deepEqual(circles({
    'a.ts': "import { b } from './b.js';\n// import { a } from './a.js';\n/* import './a.js'; */\nimport x from 'node:fs';\nexport const a = b + String(x);\n",
    'b.ts': "export { c as b } from './lib/c.js';\n",
    'lib/c.ts': "import type { Thing } from 'some-package';\nexport const c: Thing = 1;\n",
  }), []);
});

test('import cycles: a circle through a type-only import, a multi-line import and an export … from', () => {
  const found = circles({
    'agent.ts': "import {\n  handlers,\n} from './transport/service.js';\nexport class Agent { h = handlers; }\n",
    'transport/service.ts': "export * from './handlers/x.js';\nexport const handlers = 1;\n",
    'transport/handlers/x.ts': "import type { Agent } from '../../agent.js';\nexport type X = Agent;\n",
    'other.ts': "import './agent.js';\n",
  });
  assert.equal(found.length, 1);
  assert.deepEqual(found[0], ['agent.ts', 'transport/service.ts', 'transport/handlers/x.ts', 'agent.ts']);
});

test('import cycles: a circle through import(), and one module importing itself, each reported', () => {
  const found = circles({
    'a.ts': "export async function f() { return (await import('./b.js')).g; }\n",
    'b.ts': "import { f } from './a.js';\nexport const g = f;\n",
    'self.ts': "import * as me from './self.js';\nexport const s = me;\n",
  });
  assert.deepEqual(found.map((c) => c.join(' ')).sort(), ['a.ts b.ts a.ts', 'self.ts self.ts']);
});
