// slipway certs init | certs issue NAME (--agent HOST[,HOST…] | --client)
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { initCa, issue, CertError, CA_KEY_FILE, type Issued } from '../certs.js';
import { assertKeysIgnored } from '../git-safety.js';
import { UsageError } from '../errors.js';
import { action, globals, printJson } from './common.js';
import { formatTime } from '../../common/time.js';

function days(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 36500) throw new UsageError(`--days must be a whole number of days (1 to 36500), not "${v}"`);
  return n;
}

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CertError && err.usage) throw new UsageError(err.message);
    throw err;
  }
}

function where(r: Issued): string[] {
  if (r.role === 'ca') {
    return [
      `created the CA, valid until ${formatTime(r.not_after)}:`,
      `  ${r.cert}        the CA certificate: goes to every agent (tls.ca) and every coordinator (slipway.yaml tls.ca)`,
      `  ${r.key}    the CA key (mode 0600): keep it here or offline; it never goes to a host`,
      'next: slipway certs issue NAME --agent HOST[,HOST…] for each agent, slipway certs issue NAME --client for each operator or CI',
    ];
  }
  if (r.role === 'agent') {
    return [
      `issued agent certificate "${r.name}" for ${r.sans.filter((s) => !s.startsWith('URI:')).join(', ')}, valid until ${formatTime(r.not_after)}:`,
      `  ${r.cert}    copy to the agent host, e.g. /etc/slipway/agent.pem        (agent.yaml tls.cert)`,
      `  ${r.key}    copy to the agent host, e.g. /etc/slipway/agent-key.pem (agent.yaml tls.key; mode 0600, owned by the agent's user)`,
      `  ${r.ca}    copy to the agent host, e.g. /etc/slipway/ca.pem         (agent.yaml tls.ca)`,
      'after replacing the files of a running agent: kill -HUP its pid (or wait for tls_reload_s)',
    ];
  }
  return [
    `issued deployer certificate "${r.name}", valid until ${formatTime(r.not_after)}:`,
    `  ${r.cert}    stays with the operator or CI runner named ${r.name}`,
    `  ${r.key}    its key (mode 0600); never copy it to an agent`,
    `in slipway.yaml: tls: { ca: ${r.ca}, cert: ${r.cert}, key: ${r.key} }`,
  ];
}

export function register(program: Command): void {
  const certs = program.command('certs')
    .description('a private CA and the certificates of agents (role agent) and operators/CI (role deployer), made with openssl');

  certs.command('init')
    .description('create the CA: ca.pem (shared with every host) and ca-key.pem (kept private)')
    .option('--dir <dir>', 'where the CA lives', 'certs')
    .option('--name <cn>', 'the CA\'s common name', 'slipway CA')
    .option('--days <n>', 'lifetime in days (default 3650)')
    .option('--force', 'replace an existing CA (every certificate it issued stops working)')
    .option('--allow-in-git', 'write the CA key even where git would commit it (inside a work tree, not ignored)')
    .action(action(async (opts: { dir: string; name: string; days?: string; force?: boolean; allowInGit?: boolean }, cmd: Command) => {
      assertKeysIgnored([{ path: join(resolve(opts.dir), CA_KEY_FILE), what: 'the CA key' }], opts.allowInGit === true);
      const r = await wrap(() => initCa(opts.dir, { name: opts.name, days: days(opts.days), force: opts.force }));
      if (globals(cmd).json) printJson({ command: 'certs init', ok: true, ...r });
      else process.stdout.write(`${where(r).join('\n')}\n`);
      return 0;
    }));

  certs.command('issue <name>')
    .description('issue a certificate: --agent HOSTS for an agent, --client for an operator or CI runner (the NAME becomes its CN)')
    .option('--agent <hosts>', 'an agent certificate for these host names and IPs (comma-separated; exactly as the coordinator dials them)')
    .option('--client', 'a deployer certificate (operators, CI): may call agents')
    .option('--dir <dir>', 'where the CA is, and where the files go', 'certs')
    .option('--days <n>', 'lifetime in days (default 397)')
    .option('--force', 'replace existing files of that name (a renewal)')
    .option('--allow-in-git', 'write the private key even where git would commit it (inside a work tree, not ignored)')
    .addHelpText('after', `
The role is written into the certificate (SAN URI urn:slipway:role:agent or
urn:slipway:role:deployer). Agents accept calls only from deployer
certificates, so a stolen agent certificate cannot drive other agents.
Examples:
  slipway certs issue web-1 --agent web-1.internal,10.0.0.5
  slipway certs issue ci-1 --client`)
    .action(action(async (name: string, opts: { agent?: string; client?: boolean; dir: string; days?: string; force?: boolean; allowInGit?: boolean }, cmd: Command) => {
      if ((opts.agent === undefined) === (opts.client !== true)) throw new UsageError('give exactly one of --agent HOST[,HOST…] or --client');
      assertKeysIgnored([{ path: join(resolve(opts.dir), `${name}-key.pem`), what: 'the private key' }], opts.allowInGit === true);
      const r = await wrap(() => issue(opts.dir, name, opts.agent !== undefined ? 'agent' : 'deployer', {
        hosts: opts.agent?.split(','), days: days(opts.days), force: opts.force,
      }));
      if (globals(cmd).json) printJson({ command: 'certs issue', ok: true, ...r });
      else process.stdout.write(`${where(r).join('\n')}\n`);
      return 0;
    }));
}
