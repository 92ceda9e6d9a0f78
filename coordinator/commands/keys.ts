// slipway keys generate: the ed25519 key pair that signs releases.
import type { Command } from 'commander';
import { dirname, resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { generateSigningKey } from '../../common/signing.js';
import { UsageError } from '../errors.js';
import { assertKeysIgnored } from '../git-safety.js';
import { action, globals, printJson } from './common.js';

export function register(program: Command): void {
  const keys = program.command('keys').description('the ed25519 key pair that signs releases (slipway build) and that agents trust (trusted_keys)');
  keys.command('generate')
    .description('write PATH.key (private, 0600) and PATH.pub (public)')
    .option('--out <path>', 'the files\' path without extension', 'keys/release')
    .option('--force', 'replace existing files (keep the old .pub in trusted_keys until no release signed with it is deployed)')
    .option('--allow-in-git', 'write the private key even where git would commit it (inside a work tree, not ignored)')
    .addHelpText('after', `
The key id (shown, and in every signature) is the first 16 hex digits of the
sha256 of the public key. To rotate: generate a new pair, add its .pub to every
agent's trusted_keys beside the old one (SIGHUP), switch signing_key, and
remove the old .pub once no host needs it.`)
    .action(action(async (opts: { out: string; force?: boolean; allowInGit?: boolean }, cmd: Command) => {
      const base = resolve(opts.out.replace(/\.(key|pub)$/, ''));
      assertKeysIgnored([{ path: `${base}.key`, what: 'the release signing key' }], opts.allowInGit === true);
      await mkdir(dirname(base), { recursive: true, mode: 0o700 });
      let k;
      try {
        k = await generateSigningKey(base, opts.force === true);
      } catch (err) {
        if ((err as { usage?: boolean }).usage) throw new UsageError((err as Error).message);
        throw err;
      }
      if (globals(cmd).json) {
        printJson({ command: 'keys generate', ok: true, private_key: k.private, public_key: k.public, key_id: k.keyId });
      } else {
        process.stdout.write([
          `generated release signing key ${k.keyId}:`,
          `  ${k.private}    private (mode 0600): stays where releases are built; in slipway.yaml: signing_key: ${k.private}`,
          `  ${k.public}    public: copy to every agent, e.g. /etc/slipway/release.pub, and list it in agent.yaml trusted_keys`,
          '',
        ].join('\n'));
      }
      return 0;
    }));
}
