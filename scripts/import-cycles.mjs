// Finds import circles among the project's TypeScript sources: every
// relative import, export … from, and import() of a file under the given
// folders (type-only imports count too: a circle of types still ties the
// modules together), followed to the file it names. Run by `npm run lint`:
//   node scripts/import-cycles.mjs [FOLDER...]   (default: agent coordinator common app proto)
// prints each circle and exits 1, or exits 0 when there is none.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = /\.(ts|mts|cts|tsx)$/;
const SPECIFIERS = [
  /(?:^|[\s;}])(?:import|export)\s(?:[^'"`;]*?\sfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]/g,
  /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g,
];

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Comments out of the way (a line comment only where it starts a line, so that strings with // stay). */
function withoutComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** The file an import names: ./x.js is ./x.ts in the sources. */
function resolveImport(from, spec) {
  const base = resolve(dirname(from), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), base.replace(/\.cjs$/, '.cts'), base.replace(/\.js$/, '.tsx'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => SOURCE.test(c) && existsSync(c) && statSync(c).isFile());
}

/** file → the project files it imports (absolute paths). */
export function importGraph(dirs) {
  const graph = new Map();
  const pending = dirs.flatMap((d) => sourceFiles(d));
  while (pending.length > 0) {
    const file = pending.pop();
    if (graph.has(file)) continue;
    const text = withoutComments(readFileSync(file, 'utf8'));
    const deps = new Set();
    for (const re of SPECIFIERS) {
      for (const m of text.matchAll(re)) {
        const target = resolveImport(file, m[1]);
        if (target) deps.add(target);
      }
    }
    graph.set(file, [...deps]);
    for (const d of deps) if (!graph.has(d)) pending.push(d);
  }
  return graph;
}

/** Each circle once, as the list of files around it (Tarjan's strongly connected components, then a path through each). */
export function findCycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), idx.get(w)));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(comp);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return components.map((comp) => circleThrough(graph, new Set(comp), comp.sort()[0]));
}

/** A shortest way from start back to itself inside the component. */
function circleThrough(graph, members, start) {
  const prev = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0]));
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const dirs = (process.argv.length > 2 ? process.argv.slice(2) : ['agent', 'coordinator', 'common', 'app', 'proto']).map((d) => resolve(root, d));
  const graph = importGraph(dirs);
  const cycles = findCycles(graph);
  const show = (f) => relative(root, f).split(sep).join('/');
  for (const c of cycles) console.error(`import circle: ${c.map(show).join(' → ')}`);
  if (cycles.length > 0) process.exit(1);
  console.log(`import-cycles: no circle among ${graph.size} files`);
}
