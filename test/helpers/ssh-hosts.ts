// Bare hosts for `slipway setup`, on this one machine (root only): each host
// is a network namespace on a bridge (as the shared tools' fleet-netns.sh
// builds them) with its own filesystem view, a mount namespace where
//   /etc        is a copy of this machine's /etc (its own passwd, ssh keys, slipway files)
//   /var/lib    is an empty directory of its own (the agent's state goes there)
//   /usr/local  is an empty directory of its own (the agent executable goes there)
//   /run        is a tmpfs of its own (sshd's, the agent's runtime dir)
//   /usr/bin    hides node (an overlay with a whiteout): no Node on the host
// and Debian's OpenSSH server running in it, listening on the host's address,
// taking the test's key for root. A coordinator namespace on the same bridge
// runs the CLI and its ssh, with an ssh_config that names the key.
// Names carry the caller's prefix; down() kills every process in the
// namespaces (sshd, agents, apps), which ends the mount namespaces too.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class SshHosts {
  readonly names: string[];
  readonly sshConfig: string;
  readonly key: string;
  private readonly sshd: ChildProcess[] = [];
  readonly sshdLog: string[] = [];

  /** prefix: a few letters unique to the test file; net: the first three octets of its /24. */
  constructor(readonly prefix: string, readonly net: string, readonly count: number, readonly dir: string) {
    this.names = Array.from({ length: count }, (_, i) => `h${i + 1}`);
    this.sshConfig = join(dir, 'ssh_config');
    this.key = join(dir, 'id_ed25519');
  }

  ns(node: string): string {
    return `${this.prefix}-${node}`;
  }

  addr(node: string): string {
    return node === 'coord' ? `${this.net}.1` : `${this.net}.${10 + Number(node.slice(1))}`;
  }

  root(node: string): string {
    return join(this.dir, 'hosts', node);
  }

  up(): void {
    this.down();
    mkdirSync(this.dir, { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'slipway-setup-test', '-f', this.key]);
    writeFileSync(this.sshConfig, [
      `Host ${this.net}.*`,
      '  User root',
      `  IdentityFile ${this.key}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${join(this.dir, 'known_hosts')}`,
      '  StrictHostKeyChecking accept-new',
      '  LogLevel ERROR',
      '',
    ].join('\n'));
    ip('netns', 'add', this.ns('sw'));
    ip('-n', this.ns('sw'), 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', this.ns('sw'), 'link', 'set', 'br0', 'up');
    for (const node of ['coord', ...this.names]) {
      const ns = this.ns(node);
      const port = `${this.prefix.slice(0, 8)}${node}`;
      ip('netns', 'add', ns);
      ip('link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', this.ns('sw'));
      ip('-n', this.ns('sw'), 'link', 'set', port, 'master', 'br0', 'up');
      ip('-n', ns, 'addr', 'add', `${this.addr(node)}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    for (const node of this.names) this.startHost(node);
  }

  private startHost(node: string): void {
    const r = this.root(node);
    for (const d of ['var-lib', 'usr-local', 'usr-bin-up', 'usr-bin-work']) mkdirSync(join(r, d), { recursive: true });
    execFileSync('cp', ['-a', '/etc', join(r, 'etc')]);
    // A bare host: nothing of slipway in its /etc, fresh host keys, sshd's test config.
    rmSync(join(r, 'etc', 'slipway'), { recursive: true, force: true });
    rmSync(join(r, 'etc', 'systemd', 'system', 'slipway-agent.service'), { force: true });
    for (const f of ['passwd', 'group', 'shadow', 'gshadow']) {
      const p = join(r, 'etc', f);
      if (existsSync(p)) writeFileSync(p, readFileSync(p, 'utf8').split('\n').filter((l) => !l.startsWith('slipway:')).join('\n'));
    }
    execFileSync('sh', ['-c', `rm -f "${r}"/etc/ssh/ssh_host_* && ssh-keygen -q -A -f "${r}"`]);
    writeFileSync(join(r, 'etc', 'ssh', 'test_authorized_keys'), readFileSync(`${this.key}.pub`), { mode: 0o644 });
    writeFileSync(join(r, 'etc', 'ssh', 'sshd_test_config'), [
      `ListenAddress ${this.addr(node)}`,
      'Port 22',
      'HostKey /etc/ssh/ssh_host_ed25519_key',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'AuthorizedKeysFile /etc/ssh/test_authorized_keys',
      'StrictModes no',
      'UsePAM no',
      'PidFile /run/sshd.pid',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'));
    execFileSync('mknod', [join(r, 'usr-bin-up', 'node'), 'c', '0', '0']);
    const mounts = [
      `mount --bind "${r}/etc" /etc`,
      `mount --bind "${r}/var-lib" /var/lib`,
      `mount --bind "${r}/usr-local" /usr/local`,
      'mount -t tmpfs -o mode=0755 tmpfs /run',
      'mkdir -p /run/sshd',
      `mount -t overlay overlay -o "lowerdir=/usr/bin,upperdir=${r}/usr-bin-up,workdir=${r}/usr-bin-work" /usr/bin`,
      `hostname ${node} 2>/dev/null || true`,
      `exec ${SSHD} -D -e -f /etc/ssh/sshd_test_config`,
    ].join(' && ');
    const child = spawn('ip', ['netns', 'exec', this.ns(node), 'unshare', '--mount', '--uts', '--pid', '--fork', '--mount-proc', '--propagation', 'private', 'sh', '-c', mounts], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [child.stdout, child.stderr]) s?.on('data', (d: Buffer) => this.sshdLog.push(`${node}: ${d.toString().trim()}`));
    this.sshd.push(child);
  }

  /** Runs a command on a host through ssh (from the coordinator's namespace), as the CLI would reach it. */
  ssh(node: string, command: string): RunResult {
    return this.inCoord(['ssh', '-F', this.sshConfig, '-o', 'BatchMode=yes', this.addr(node), '--', command]);
  }

  /** Runs argv in the coordinator's namespace. */
  inCoord(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
    try {
      const stdout = execFileSync('ip', ['netns', 'exec', this.ns('coord'), ...argv], { cwd: opts.cwd, env: opts.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20 });
      return { code: 0, stdout, stderr: '' };
    } catch (err) {
      const e = err as { status?: number; stdout?: string; stderr?: string };
      return { code: e.status ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  /** The same, without blocking the event loop (a CLI run that takes a while). */
  inCoordAsync(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', this.ns('coord'), ...argv], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  /** Waits until every host's sshd takes a login (polls; generous). */
  async waitForSshd(timeoutMs = 30_000): Promise<void> {
    for (const node of this.names) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = this.ssh(node, 'true');
        if (r.code === 0) break;
        if (Date.now() > deadline) throw new Error(`sshd on ${node} did not take a login: ${r.stderr}\n${this.sshdLog.join('\n')}`);
        await new Promise((res) => setTimeout(res, 200));
      }
    }
  }

  /** Kills every process in the fleet's namespaces (sshd, agents, apps: their mount namespaces go with them) and removes the namespaces. */
  down(): void {
    for (const c of this.sshd) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const node of ['coord', ...this.names, 'sw']) {
      const ns = this.ns(node);
      let pids: string[] = [];
      try { pids = ip('netns', 'pids', ns).split('\n').filter(Boolean); } catch { continue; }
      for (const pid of pids) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
      try { ip('netns', 'del', ns); } catch { /* gone */ }
    }
  }
}
