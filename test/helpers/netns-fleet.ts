// A fleet in network namespaces on this one machine (root only): a switch
// namespace holding a bridge, the coordinator, an artifact store (nginx)
// and N hosts, each in its own namespace on a veth to the bridge. Links can
// be capped (tc tbf on both ends of the veth, so each direction is) and cut
// (the switch-side port down, like pulling the cable). Real agents run inside
// the host namespaces, real nginx in the store's, the real CLI in the
// coordinator's. Names carry a prefix unique to the caller, so fleets of two
// test files never meet; down() removes everything it made.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AGENT_BIN, CLI_BIN, killAppsUnder } from '../../scripts/local-fleet.js';

/**
 * The programs: dist/bin, or a copy of it named by SLIPWAY_FLEET_BIN_DIR (a
 * long bench run on a machine where others rebuild dist/ meanwhile).
 */
export function agentBin(): string {
  return process.env.SLIPWAY_FLEET_BIN_DIR ? join(process.env.SLIPWAY_FLEET_BIN_DIR, 'slipway-agent.mjs') : AGENT_BIN;
}

export function cliBin(): string {
  return process.env.SLIPWAY_FLEET_BIN_DIR ? join(process.env.SLIPWAY_FLEET_BIN_DIR, 'slipway.cjs') : CLI_BIN;
}

export type Node = 'coord' | 'store' | `h${number}`;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tc(...args: string[]): void {
  execFileSync('tc', args, { stdio: 'ignore' });
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export class NetnsFleet {
  readonly nodes: Node[];
  private readonly children: ChildProcess[] = [];

  /** prefix: a few letters unique to the test file; net: the first three octets of its /24. */
  constructor(readonly prefix: string, readonly net: string, readonly hosts: number) {
    this.nodes = ['coord', 'store', ...Array.from({ length: hosts }, (_, i) => `h${i + 1}` as Node)];
  }

  ns(node: Node | 'sw'): string {
    return `${this.prefix}-${node}`;
  }

  addr(node: Node): string {
    if (node === 'coord') return `${this.net}.1`;
    if (node === 'store') return `${this.net}.2`;
    return `${this.net}.${10 + Number(node.slice(1))}`;
  }

  /** The switch-side end of a node's veth. */
  private port(node: Node): string {
    return `${this.prefix.slice(0, 6)}${node}`;
  }

  up(): void {
    this.down();
    ip('netns', 'add', this.ns('sw'));
    ip('-n', this.ns('sw'), 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', this.ns('sw'), 'link', 'set', 'br0', 'up');
    for (const node of this.nodes) {
      const ns = this.ns(node);
      ip('netns', 'add', ns);
      ip('link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', this.port(node), 'netns', this.ns('sw'));
      ip('-n', this.ns('sw'), 'link', 'set', this.port(node), 'master', 'br0', 'up');
      ip('-n', ns, 'addr', 'add', `${this.addr(node)}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  }

  /** Caps a node's link in each direction (e.g. '50mbit'); 'none' removes the cap. */
  shape(node: Node, rate: string): void {
    for (const [ns, dev] of [[this.ns(node), 'eth0'], [this.ns('sw'), this.port(node)]]) {
      try { tc('-n', ns, 'qdisc', 'del', 'dev', dev, 'root'); } catch { /* none yet */ }
      if (rate !== 'none') tc('-n', ns, 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', rate, 'burst', '256kb', 'latency', '400ms');
    }
  }

  /** Pulls the node's cable (its switch port down); heal() plugs it back. */
  cut(node: Node): void {
    ip('-n', this.ns('sw'), 'link', 'set', this.port(node), 'down');
  }

  heal(node: Node): void {
    ip('-n', this.ns('sw'), 'link', 'set', this.port(node), 'up');
  }

  /** Bytes the node sent on its link so far. */
  txBytes(node: Node): number {
    const j = JSON.parse(ip('-n', this.ns(node), '-j', '-s', 'link', 'show', 'eth0')) as { stats64: { tx: { bytes: number } } }[];
    return j[0].stats64.tx.bytes;
  }

  /** Starts argv in node's namespace; its output lines go to onLine. */
  spawn(node: Node, argv: string[], onLine: (line: string) => void = () => {}, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns(node), ...argv], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    this.children.push(child);
    return child;
  }

  /** Runs argv in node's namespace to its end: exit code and output. */
  run(node: Node, argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', this.ns(node), ...argv], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  /** Ends what this fleet started, every process left in its namespaces, and the namespaces. */
  down(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const node of [...this.nodes, 'sw' as const]) {
      const ns = this.ns(node);
      let pids: string[] = [];
      try { pids = ip('netns', 'pids', ns).split('\n').filter(Boolean); } catch { continue; }
      for (const pid of pids) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
      try { ip('netns', 'del', ns); } catch { /* gone */ }
    }
  }
}

/** A real agent in a host's namespace: mTLS on the host's address, signed releases, fetching with the test CA. */
export class NetnsAgent {
  readonly lines: string[] = [];
  readonly stateDir: string;
  child?: ChildProcess;

  constructor(readonly fleet: NetnsFleet, readonly node: Node, readonly dir: string,
    pki: { ca: string; cert: string; key: string; trusted: string }, fetch: string) {
    mkdirSync(dir, { recursive: true });
    this.stateDir = join(dir, 'state');
    writeFileSync(join(dir, 'agent.yaml'), [
      `name: ${node}`,
      `listen: ${fleet.addr(node)}:7070`,
      'http: false',
      'state_dir: state',
      `tls: { ca: ${pki.ca}, cert: ${pki.cert}, key: ${pki.key} }`,
      `trusted_keys: [${pki.trusted}]`,
      'disk_reserve_bytes: 0',
      `fetch: ${fetch}`,
      '',
    ].join('\n'));
  }

  get address(): string {
    return `${this.fleet.addr(this.node)}:7070`;
  }

  start(timeoutMs = 30_000): Promise<void> {
    this.child = this.fleet.spawn(this.node, [process.execPath, '--max-semi-space-size=1', agentBin(), '--config', join(this.dir, 'agent.yaml')], (l) => {
      this.lines.push(l);
      if (this.lines.length > 5000) this.lines.splice(0, 1000);
    });
    const child = this.child;
    return new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        if (this.lines.some((l) => l.includes('"agent listening"'))) { clearInterval(timer); resolve(); }
      }, 50);
      setTimeout(() => { clearInterval(timer); reject(new Error(`agent ${this.node} did not listen within ${timeoutMs} ms:\n${this.lines.slice(-20).join('\n')}`)); }, timeoutMs).unref();
      child.once('exit', (code) => { clearInterval(timer); reject(new Error(`agent ${this.node} exited (${code}):\n${this.lines.slice(-20).join('\n')}`)); });
    });
  }

  stop(): void {
    this.child?.kill('SIGKILL');
    killAppsUnder(this.stateDir);
  }

  logged(text: string): string[] {
    return this.lines.filter((l) => l.includes(text));
  }
}

/** nginx as the artifact store: HTTPS with a test certificate, WebDAV PUT under /releases/, and fault locations. */
export function nginxConfig(o: { dir: string; root: string; tamperedRoot: string; cert: string; key: string; listen: string; coord: string }): string {
  return `
daemon off;
master_process off;
worker_processes 1;
pid ${o.dir}/nginx.pid;
error_log ${o.dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${o.dir}/access.log;
  client_body_temp_path ${o.dir}/client_body;
  proxy_temp_path ${o.dir}/proxy;
  fastcgi_temp_path ${o.dir}/fastcgi;
  uwsgi_temp_path ${o.dir}/uwsgi;
  scgi_temp_path ${o.dir}/scgi;
  client_max_body_size 1g;
  sendfile on;
  server {
    listen ${o.listen} ssl;
    ssl_certificate ${o.cert};
    ssl_certificate_key ${o.key};
    # The store: what agents fetch (GET, Range), what the coordinator publishes (PUT).
    location /releases/ {
      root ${o.root};
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
    # A store that serves other bytes under the same name.
    location /tampered/ {
      alias ${o.tamperedRoot}/;
    }
    # A store whose object the coordinator sees but the hosts get a 404 for.
    location /hidden/ {
      if ($remote_addr != ${o.coord}) { return 404; }
      alias ${o.root}/releases/;
    }
  }
}
`;
}
