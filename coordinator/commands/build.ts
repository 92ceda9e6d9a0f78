// slipway build [VERSION]
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { buildRelease } from '../build/build.js';
import { action, load, globals, printJson } from './common.js';
import { formatBytes, color } from '../output.js';

export function register(program: Command): void {
  program.command('build [version]')
    .description('build a release from git tag VERSION (default: the tag on HEAD) in a fresh worktree')
    .option('-o, --out <dir>', 'where to write the tarball (default: .slipway/releases)')
    .addHelpText('after', '\nThe same commit always gives the same bytes, so a re-deploy sends nothing.\nExample: slipway build 1.1.0')
    .action(action(async (version: string | undefined, opts: { out?: string }, cmd: Command) => {
      const loaded = load(cmd);
      const json = globals(cmd).json === true;
      const res = await buildRelease({
        root: loaded.root, config: loaded.config, configFile: loaded.file, version, outDir: opts.out,
        signingKey: loaded.config.signing_key === undefined ? undefined : resolve(loaded.root, loaded.config.signing_key),
        log: json ? undefined : (line) => process.stderr.write(`${color.dim('build |')} ${line}\n`),
      });
      if (json) {
        const { sourceDate, ...rest } = res;
        printJson({ command: 'build', ok: true, ...rest, source_date: sourceDate });
      } else {
        for (const n of res.notes) process.stderr.write(`note: ${n}\n`);
        if (!res.signature) process.stderr.write('note: the release is not signed (no signing_key in slipway.yaml): agents accept it only with allow_unsigned, on loopback\n');
        process.stdout.write(`built ${res.app} ${res.version} from ${res.tag} (${res.commit.slice(0, 12)})\n`);
        process.stdout.write(`  ${res.tarball}\n  sha256 ${res.sha256}, ${formatBytes(res.size)}, ${res.files} entries\n`);
        if (res.signature) process.stdout.write(`  signed with key ${res.signature.key_id}: ${res.signature.file}\n`);
      }
      return 0;
    }));
}
