// What `slipway setup` does to one host, decided from what should be there
// (the desired files, made on this machine) and what the probe found. Pure.

export interface DesiredFile {
  /** Absolute path on the host. */
  path: string;
  /** Octal mode, e.g. '0644'. */
  mode: string;
  sha256: string;
  /** Read when the file is sent (the executable is large: read once, sent where needed). */
  source: { file: string } | { data: Buffer };
  /** A change of this file needs the agent restarted (all but none today, kept for clarity). */
  restarts: boolean;
}

export interface Probe {
  uid: number;
  arch: string;
  systemd: boolean;
  user: boolean;
  running: boolean;
  /** The users named slipway-… (apps' own users: app_users: per_app). */
  appUsers: Set<string>;
  /** Path → sha256 of the file on the host, or undefined when it is missing. */
  files: Map<string, string | undefined>;
}

export type Step =
  | { kind: 'create-user' }
  | { kind: 'create-app-user'; name: string; app: string }
  | { kind: 'install' | 'update'; path: string }
  | { kind: 'restart' | 'start' };

export interface HostPlan {
  steps: Step[];
  /** The files to send (install or update). */
  send: DesiredFile[];
  restart: boolean;
}

/** Parses the PROBE script's output (remote.ts). */
export function parseProbe(out: string): Probe {
  const kv = new Map<string, string>();
  const files = new Map<string, string | undefined>();
  const appUsers = new Set<string>();
  for (const line of out.split('\n')) {
    const f = /^file (\S+) (\S+)$/.exec(line);
    const u = /^appuser (\S+)$/.exec(line);
    if (f) files.set(f[1], f[2] === '-' ? undefined : f[2]);
    else if (u) appUsers.add(u[1]);
    else {
      const m = /^([a-z]+)=(.*)$/.exec(line);
      if (m) kv.set(m[1], m[2]);
    }
  }
  if (!kv.has('uid') || !kv.has('running')) throw new Error(`the probe's output is not what setup expects: ${JSON.stringify(out.slice(0, 200))}`);
  return {
    uid: Number(kv.get('uid')), arch: kv.get('arch') ?? '', systemd: kv.get('systemd') === 'yes',
    user: kv.get('user') === 'yes', running: kv.get('running') === 'yes', appUsers, files,
  };
}

/** `uname -m` names of Node's process.arch values (the executable's architecture). */
export const UNAME: Record<string, string[]> = { x64: ['x86_64', 'amd64'], arm64: ['aarch64', 'arm64'] };

/** The steps for one host; a reason string when the host cannot take the agent as built. appUsers: per-app users it must have (setup.app_users: per_app). */
export function planHost(desired: DesiredFile[], probe: Probe, exeArch: string, appUsers: { name: string; app: string }[] = []): HostPlan | string {
  if (probe.uid !== 0) return `the remote commands run as uid ${probe.uid}, not root (log in as root, or as a user that may sudo without a password)`;
  if (probe.arch && UNAME[exeArch] && !UNAME[exeArch].includes(probe.arch)) {
    return `the host is ${probe.arch}, the agent executable is linux-${exeArch} (build one for ${probe.arch}: docs/executable.md)`;
  }
  const steps: Step[] = [];
  const send: DesiredFile[] = [];
  if (!probe.user) steps.push({ kind: 'create-user' });
  for (const u of appUsers) if (!probe.appUsers.has(u.name)) steps.push({ kind: 'create-app-user', ...u });
  let restart = false;
  for (const f of desired) {
    const have = probe.files.get(f.path);
    if (have === f.sha256) continue;
    steps.push({ kind: have === undefined ? 'install' : 'update', path: f.path });
    send.push(f);
    if (f.restarts) restart = true;
  }
  if (restart && probe.running) steps.push({ kind: 'restart' });
  else if (!probe.running) steps.push({ kind: 'start' });
  return { steps, send, restart: restart && probe.running };
}

export function describeStep(s: Step): string {
  switch (s.kind) {
    case 'create-user': return 'create the system user and group slipway';
    case 'create-app-user': return `create the system user ${s.name} (app ${s.app} runs as it: app_users: per_app)`;
    case 'install': return `install ${s.path}`;
    case 'update': return `update ${s.path}`;
    case 'restart': return 'restart the agent (its apps keep running)';
    case 'start': return 'enable and start the agent';
  }
}
