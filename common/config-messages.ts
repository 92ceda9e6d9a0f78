// The words of config errors (pure): a did-you-mean for a mistyped key or
// name, the keys a schema knows at a path, and zod's issues said the way an
// operator reads them ("must be a list", not "Invalid input: expected array,
// received undefined"). A schema's own message (a regex's, a refine's) is
// kept as written.
import type * as z from 'zod';

/** Optimal string alignment distance (Levenshtein plus swapping two neighbours). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The candidate closest to `word`, if it is close enough to be the one meant (case ignored). */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.min(3, Math.floor(w.length / 3)));
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d <= limit && (!best || d < best.d)) best = { c, d };
  }
  return best?.c;
}

interface Def { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType>; valueType?: z.ZodType; element?: z.ZodType; options?: z.ZodType[]; in?: z.ZodType; out?: z.ZodType; schema?: z.ZodType }

const defOf = (s: z.ZodType): Def => (s as unknown as { def: Def }).def;

/** The object schemas a value at `path` may be checked against (through optional, default, unions, records, lists). */
function objectsAt(schema: z.ZodType, path: readonly (string | number)[]): Def[] {
  const def = defOf(schema);
  if (def.innerType) return objectsAt(def.innerType, path);
  if (def.type === 'pipe' && def.in) return objectsAt(def.in, path);
  if (def.type === 'union' && def.options) return def.options.flatMap((o) => objectsAt(o, path));
  if (path.length === 0) return def.type === 'object' ? [def] : [];
  const [head, ...rest] = path;
  if (def.type === 'object' && def.shape && typeof head === 'string' && head in def.shape) return objectsAt(def.shape[head], rest);
  if (def.type === 'record' && def.valueType) return objectsAt(def.valueType, rest);
  if (def.type === 'array' && def.element) return objectsAt(def.element, rest);
  return [];
}

/** The keys an object at `path` of the schema takes. */
export function knownKeysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  return [...new Set(objectsAt(schema, path).flatMap((d) => Object.keys(d.shape ?? {})))];
}

const WORDS: Record<string, string> = {
  record: 'a map (key: value)', object: 'a map (key: value)', array: 'a list', string: 'a string', number: 'a number',
  int: 'a whole number', boolean: 'true or false', bigint: 'a number',
};

/** zod's default wording starts like this; a schema's own message does not. */
const ZOD_WORDING = /^(Invalid input|Invalid option|Too small|Too big|Invalid string|Invalid number|Unrecognized key)/;

function shown(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : String(v);
}

function found(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a map';
  return `${typeof input} ${shown(input)}`.slice(0, 60);
}

/** One issue's message, without its key or line (the caller adds those). */
export function issueMessage(issue: z.core.$ZodIssue, input: unknown): string {
  if (!ZOD_WORDING.test(issue.message)) return issue.message;
  if (input === undefined && issue.code === 'invalid_union') return 'is required: add it';
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return `is required: add it (${WORDS[issue.expected] ?? issue.expected})`;
      return `must be ${WORDS[issue.expected] ?? issue.expected}, not ${found(input)}`;
    case 'invalid_value':
      return `must be ${issue.values.length === 1 ? shown(issue.values[0]) : `one of ${issue.values.map(shown).join(', ')}`}${input === undefined ? '' : `, not ${found(input)}`}`;
    case 'too_small':
      return issue.origin === 'array' ? `needs at least ${String(issue.minimum)} item(s)` : issue.origin === 'string' ? `must not be empty${Number(issue.minimum) > 1 ? ` (at least ${String(issue.minimum)} characters)` : ''}` : `must be at least ${String(issue.minimum)}${issue.inclusive ? '' : ' (exclusive)'}`;
    case 'too_big':
      return issue.origin === 'array' ? `takes at most ${String(issue.maximum)} item(s)` : issue.origin === 'string' ? `must be at most ${String(issue.maximum)} characters` : `must be at most ${String(issue.maximum)}`;
    case 'invalid_union': {
      // Say what the first form expected; a union's forms are in the docs of the key.
      const firsts = issue.errors.map((e) => e[0]).filter((e): e is z.core.$ZodIssue => e !== undefined);
      const alternatives = firsts.map((e) => (e.code === 'invalid_type' ? WORDS[e.expected] ?? e.expected : e.code === 'invalid_value' ? e.values.map(shown).join(' or ') : undefined)).filter((w): w is string => w !== undefined);
      return alternatives.length ? `must be ${[...new Set(alternatives)].join(', or ')}${input === undefined ? '' : `, not ${found(input)}`}` : 'is not in any accepted form';
    }
    default:
      return issue.message.replace(/^Invalid input: /, '');
  }
}
