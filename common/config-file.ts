// Reads a YAML (or JSON) config file and validates it against a zod schema.
// Errors name the file, the line and the key: "slipway.yaml:7: run.listen.0.port: …".
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Node } from 'yaml';
import * as z from 'zod';
import { SlipwayError } from './errors.js';

// Each schema here parses a file or two per process. Zod's JIT compiles an
// object schema into a function on its first parse, which costs more than it
// saves for one parse (~10 ms of every CLI start); so no JIT.
z.config({ jitless: true });

export class ConfigError extends SlipwayError {
  constructor(public readonly file: string, public readonly problems: string[]) {
    super('SLIPWAY_ERR_CONFIG', `${file} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
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
    const line = lineOf(doc.getIn(lookup, true), lineCounter) ?? lineOf(doc.getIn(path, true), lineCounter);
    const key = path.join('.');
    let message = issue.message;
    if (keys.length > 0) {
      const full = keys.map((k) => (key ? `${key}.${k}` : k));
      message = `unknown key${keys.length > 1 ? 's' : ''} ${full.map((k) => `"${k}"`).join(', ')}`;
      return `${line ? `line ${line}: ` : ''}${message}`;
    }
    return `${line ? `line ${line}: ` : ''}${key || '(top level)'}: ${message}`;
  });
  throw new ConfigError(file, problems);
}

export function readConfigFile<S extends z.ZodType>(file: string, schema: S, displayName = file): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(displayName, [code === 'ENOENT' ? 'file not found' : `cannot read it (${code ?? String(err)})`]);
  }
  return parseConfigText(text, schema, displayName);
}

function lineOf(node: unknown, lc: LineCounter): number | undefined {
  if (!isNode(node)) return undefined;
  const range = (node as Node).range;
  return range ? lc.linePos(range[0]).line : undefined;
}
