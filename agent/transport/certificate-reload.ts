// The agent's certificate files read again, on SIGHUP and every
// tls_reload_s: a renewed certificate serves new connections at once (gRPC
// through its certificate provider, the data port and the HTTP endpoint when
// told). Bad files are logged and the ones in use kept.
import type { LoadedPair } from '../../common/credentials.js';
import type { Logger } from '../logger.js';

export interface CertificateUser {
  setCertificate(pair: LoadedPair): void;
}

export type ReloadWhy = 'SIGHUP' | 'timer';

export class CertificateReload {
  private readonly timer: NodeJS.Timeout;

  /** reload: re-reads the files (common/credentials.ts); users: told of a changed certificate. Reloads every intervalMs until stop(). */
  constructor(
    private readonly reload: () => { changed: boolean; pair: LoadedPair },
    private readonly users: readonly CertificateUser[],
    private readonly log: Logger,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => this.now('timer'), intervalMs).unref();
  }

  now(why: ReloadWhy): void {
    try {
      const { changed, pair } = this.reload();
      if (changed) {
        this.log.info({ why, cert: pair.subject, not_after: pair.notAfter.toISOString() }, 'TLS certificate reloaded');
        for (const user of this.users) user.setCertificate(pair);
      } else if (why === 'SIGHUP') {
        this.log.info({ why }, 'TLS certificate files unchanged');
      }
    } catch (err) {
      this.log.error({ why, err: (err as Error).message }, 'TLS certificate files not reloaded (keeping the ones in use)');
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
