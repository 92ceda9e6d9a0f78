// Reads a YAML (or JSON) config file and validates it against a zod schema.
// Errors name the file, the line and the key: "slipway.yaml:7: run.listen.0.port: …".
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Node } from 'yaml';
import * as z from 'zod';
import { SlipwayError } from './errors.js';
import { didYouMean, issueMessage, knownKeysAt } from './config-messages.js';

// Each schema here parses a file or two per process. Zod's JIT compiles an
// object schema into a function on its first parse, which costs more than it
// saves for one parse (~10 ms of every CLI start); so no JIT.
z.config({ jitless: true });

export class ConfigError extends SlipwayError {
  /** `summary`: the whole message, where "is not valid" would not be true (a missing file). */
  constructor(public readonly file: string, public readonly problems: string[], summary?: string) {
    super('SLIPWAY_ERR_CONFIG', summary ?? `${file} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function parseConfigText<S extends z.ZodType>(text: string, schema: S, file: string): z.infer<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => {
      const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
      return `${line ? `line ${line}: ` : ''}${e.message.split('\n')[0]}`;
    }));
  }
  const data: unknown = doc.toJS() ?? {};
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    // For an unknown key, point at the key itself.
    const keys = issue.code === 'unrecognized_keys' ? (issue as { keys?: string[] }).keys ?? [] : [];
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    const lookup = keys.length > 0 ? [...path, keys[0]] : path;
    const line = (keys.length > 0 ? keyLine(doc.getIn(path, true) ?? (path.length === 0 ? doc.contents : undefined), keys[0], lineCounter) : undefined)
      ?? lineOf(doc.getIn(lookup, true), lineCounter) ?? lineOf(doc.getIn(path, true), lineCounter);
    const key = path.join('.');
    if (keys.length > 0) {
      const known = knownKeysAt(schema, path);
      const said = keys.map((k) => {
        const meant = didYouMean(k, known.filter((c) => !(c in (valueAt(data, path) as object))));
        return `"${key ? `${key}.${k}` : k}"${meant ? ` (did you mean "${meant}"?)` : ''}`;
      });
      return `${line ? `line ${line}: ` : ''}unknown key${keys.length > 1 ? 's' : ''} ${said.join(', ')}`;
    }
    return `${line ? `line ${line}: ` : ''}${key || '(top level)'}: ${issueMessage(issue, valueAt(data, path))}`;
  });
  throw new ConfigError(file, problems);
}

/** The value at a path of parsed data (undefined where the path leads nowhere). */
function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** `notFound`: what to do when the file is missing ("run slipway init"). */
export function readConfigFile<S extends z.ZodType>(file: string, schema: S, displayName = file, notFound?: string): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? `file not found: ${file}${notFound ? `; ${notFound}` : ''}` : `cannot read ${file} (${code ?? String(err)})`;
    throw new ConfigError(displayName, [problem], `${displayName}: ${problem}`);
  }
  return parseConfigText(text, schema, displayName);
}

/** The line of a key itself in a map (a value on the next line would be one off). */
function keyLine(map: unknown, key: string, lc: LineCounter): number | undefined {
  if (!isMap(map)) return undefined;
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  return pair ? lineOf(pair.key, lc) : undefined;
}

function lineOf(node: unknown, lc: LineCounter): number | undefined {
  if (!isNode(node)) return undefined;
  const range = (node as Node).range;
  return range ? lc.linePos(range[0]).line : undefined;
}
