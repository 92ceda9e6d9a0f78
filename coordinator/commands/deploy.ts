// slipway deploy ENV VERSION
import type { Command } from 'commander';
import { environment } from '../config.js';
import { Fleet } from '../fleet.js';
import { localRelease } from '../release-file.js';
import { deploy } from '../deploy.js';
import { UsageError } from '../errors.js';
import { Progress, table, color, formatBytes } from '../output.js';
import { action, load, globals, printJson, operatorName } from './common.js';

export function register(program: Command): void {
  program.command('deploy <env> <version>')
    .description('upload a built release to every host of ENV (only where it is missing), then activate it')
    .option('--strategy <hot|restart>', 'how to switch versions (default: the manifest\'s upgrade)')
    .option('--upload-only', 'upload, but do not activate')
    .option('--host <host>', 'only this host of the environment')
    .option('--timeout <seconds>', 'how long an activation may take per host', '300')
    .addHelpText('after', '\nExit codes: 0 every host runs VERSION, 1 some host failed, 2 bad usage or config.\nExample: slipway deploy staging 1.1.0')
    .action(action(async (envName: string, versionArg: string, opts: { strategy?: string; uploadOnly?: boolean; host?: string; timeout: string }, cmd: Command) => {
      const json = globals(cmd).json === true;
      if (opts.strategy && !['hot', 'restart'].includes(opts.strategy)) throw new UsageError(`--strategy must be hot or restart, not "${opts.strategy}"`);
      const timeout = Number(opts.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--timeout must be a number of seconds, not "${opts.timeout}"`);
      const loaded = load(cmd);
      const env = environment(loaded, envName);
      const rel = await localRelease(loaded, versionArg);
      if (!json) for (const n of rel.notes) process.stderr.write(`note: ${n}\n`);
      const fleet = Fleet.forEnv(loaded, envName, env, opts.host);
      const progress = new Progress(!json);
      if (!json) process.stderr.write(`deploying ${rel.app} ${rel.version} (${rel.sha256.slice(0, 12)}, ${formatBytes(rel.size)}) to ${envName}: ${fleet.hosts.length} host(s)\n`);
      let results;
      try {
        results = await deploy(fleet, rel, {
          strategy: opts.strategy ?? '', requestedBy: operatorName(), uploadOnly: opts.uploadOnly === true,
          activateTimeoutMs: timeout * 1000, progress,
        });
      } finally {
        progress.stop();
        fleet.close();
      }
      const ok = results.every((r) => r.ok);
      if (json) {
        printJson({ command: 'deploy', ok, app: rel.app, env: envName, version: rel.version, sha256: rel.sha256, hosts: results });
      } else {
        process.stdout.write(`${table(['HOST', 'UPLOAD', 'RESULT', 'NOW', 'PID'], results.map((r) => [
          r.host,
          r.upload === 'sent' ? formatBytes(r.uploaded_bytes) : r.upload,
          r.ok ? color.ok(opts.uploadOnly ? 'uploaded' : 'done') : color.bad(`failed: ${r.error?.message ?? 'unknown'}`),
          r.state || '-',
          r.pid ? String(r.pid) : '-',
        ]))}\n`);
        const failed = results.filter((r) => !r.ok).length;
        process.stdout.write(ok ? `${rel.app} ${rel.version} ${opts.uploadOnly ? 'uploaded to' : 'runs on'} every host of ${envName}\n`
          : color.bad(`${failed} of ${results.length} host(s) failed\n`));
      }
      return ok ? 0 : 1;
    }));
}
