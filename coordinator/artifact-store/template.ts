// The placeholders of slipway.yaml's store section: {app} {version} {sha256}
// {size} {env}, and {file} (the local tarball) in publish commands. Pure.

export interface StoreVars {
  app: string;
  version: string;
  sha256: string;
  size: number;
  env: string;
  file?: string;
}

const PLACEHOLDER = /\{([a-z0-9_]+)\}/g;

/** The placeholder names a template uses that are not known (for the config's error). */
export function unknownPlaceholders(template: string, allowFile: boolean): string[] {
  const known = new Set(['app', 'version', 'sha256', 'size', 'env', ...(allowFile ? ['file'] : [])]);
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((n) => !known.has(n));
}

function value(vars: StoreVars, name: string): string | undefined {
  const v = (vars as unknown as Record<string, string | number | undefined>)[name];
  return v === undefined ? undefined : String(v);
}

/** A URL template filled in: values are URL-path-encoded (app, version and sha256 need none; a version's `+` does). */
export function expandUrl(template: string, vars: StoreVars): string {
  return template.replace(PLACEHOLDER, (all, name: string) => {
    const v = value(vars, name);
    return v === undefined ? all : encodeURIComponent(v);
  });
}

/** A value safe inside sh -c: single-quoted. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A command filled in: a string for sh -c gets shell-quoted values; an argv list gets them as they are. */
export function expandCommand(cmd: string | string[], vars: StoreVars): string[] {
  if (typeof cmd === 'string') {
    return ['sh', '-c', cmd.replace(PLACEHOLDER, (all, name: string) => { const v = value(vars, name); return v === undefined ? all : shellQuote(v); })];
  }
  return cmd.map((a) => a.replace(PLACEHOLDER, (all, name: string) => value(vars, name) ?? all));
}
