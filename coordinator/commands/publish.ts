// slipway publish ENV VERSION: puts a built release into ENV's artifact
// store (slipway.yaml's store: publish.command, run once, or an HTTP PUT),
// unless the store already serves it. slipway deploy does the same before
// it tells the hosts to fetch; this runs it alone (a CI step, a retry).
import type { Command } from 'commander';
import { environment } from '../config.js';
import { localRelease } from '../release-file.js';
import { UsageError } from '../errors.js';
import { action, load, globals, printJson } from './common.js';
import { storeFor, agentUrl, publish, publishIfMissing, storeVars } from '../artifact-store/index.js';
import { redactUrl } from '../../common/store-http.js';
import { formatBytes } from '../output.js';

export function register(program: Command): void {
  program.command('publish <env> <version>')
    .description('put a built release into ENV\'s artifact store (slipway.yaml\'s store), unless the store already serves it')
    .option('--force', 'publish even when the store already serves the release')
    .addHelpText('after', `
The hosts of an environment with a store fetch releases from it themselves;
slipway deploy publishes when the release is missing, so this command is for
CI steps and retries. The hosts still check the sha256 and the signature.

Exit codes: 0 published (or already there), 1 publishing failed, 2 bad usage or config.
Example: slipway publish production 1.4.2`)
    .action(action(async (envName: string, versionArg: string, opts: { force?: boolean }, cmd: Command) => {
      const json = globals(cmd).json === true;
      const loaded = load(cmd);
      const env = environment(loaded, envName);
      const store = storeFor(loaded, env);
      if (!store) throw new UsageError(`environment ${envName} has no artifact store (slipway.yaml's store, or its store: false); its deploys push from here`);
      const rel = await localRelease(loaded, versionArg);
      if (!json) for (const n of rel.notes) process.stderr.write(`note: ${n}\n`);
      const vars = storeVars(rel, envName);
      const url = await agentUrl(store, vars, loaded.root);
      const say = (l: string) => { if (!json) process.stderr.write(`${l}\n`); };
      if (!json) process.stderr.write(`publishing ${rel.app} ${rel.version} (${rel.sha256.slice(0, 12)}, ${formatBytes(rel.size)}) for ${envName}\n`);
      const r = opts.force ? await publish(store, rel, vars, loaded.root, say) : await publishIfMissing(store, rel, vars, url, loaded.root, say);
      if (json) {
        printJson({ command: 'publish', ok: true, app: rel.app, env: envName, version: rel.version, sha256: rel.sha256, size: rel.size, url: redactUrl(url), published: r !== undefined, ...(r ? { how: r.how, seconds: Math.round(r.seconds * 1000) / 1000 } : {}) });
      } else {
        process.stdout.write(r ? `published ${rel.app} ${rel.version} in ${r.seconds.toFixed(1)} s (${r.how}); hosts fetch ${redactUrl(url)}\n`
          : `the store already serves ${rel.app} ${rel.version} at ${redactUrl(url)}; nothing to publish\n`);
      }
      return 0;
    }));
}
