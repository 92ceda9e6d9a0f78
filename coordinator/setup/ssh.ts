// The system's OpenSSH client, as `slipway setup` uses it: one `ssh` process
// per call, honouring ~/.ssh/config (or the file of `ssh.config` in
// slipway.yaml / SLIPWAY_SSH_CONFIG, given as -F), never asking a question
// (BatchMode: a key or an agent must do), with a connect timeout.
import { spawn } from 'node:child_process';

export interface SshTarget {
  /** The host as ssh is to dial it (a name ssh_config may map, or an address). */
  host: string;
  user?: string;
  port?: number;
  /** An ssh_config file (ssh -F). */
  configFile?: string;
}

/** A stream to send as standard input (a Node stream, or tar's minipass). */
export interface Pipeable {
  pipe(dest: NodeJS.WritableStream): unknown;
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** ssh's own exit code when it could not connect or authenticate (the remote command's code otherwise). */
export const SSH_FAILED = 255;

/** The argv of `ssh` for a remote command (one string, as the remote shell runs it). */
export function sshArgv(t: SshTarget, command: string): string[] {
  return [
    ...(t.configFile ? ['-F', t.configFile] : []),
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15', '-o', 'ServerAliveInterval=15',
    ...(t.user ? ['-l', t.user] : []),
    ...(t.port ? ['-p', String(t.port)] : []),
    '-T', t.host, '--', command,
  ];
}

/** Runs `command` on the host; `input` is its standard input (a script, a tarball). */
export function ssh(t: SshTarget, command: string, input?: string | Buffer | Pipeable, timeoutMs = 300_000): Promise<SshResult> {
  return new Promise((resolve) => {
    const child = spawn(process.env.SLIPWAY_SSH ?? 'ssh', sshArgv(t, command), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => { stderr += `\n(no answer within ${timeoutMs / 1000} s)`; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdin.on('error', () => { /* ssh went away: its exit code and stderr tell why */ });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: SSH_FAILED, stdout, stderr: `cannot run ssh: ${err.message} (install the OpenSSH client)` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? SSH_FAILED, stdout, stderr });
    });
    if (input === undefined) child.stdin.end();
    else if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
    else input.pipe(child.stdin);
  });
}

/** ssh's last words on stderr, as a reason (without its warnings about known hosts). */
export function sshReason(r: SshResult): string {
  const lines = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^Warning: Permanently added/.test(l));
  return lines.slice(-3).join(' / ') || `exit ${r.code}`;
}
