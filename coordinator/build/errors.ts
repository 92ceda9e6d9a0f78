// The one error type of `slipway build` and `slipway init`: a message an
// operator can act on. `usage` marks bad input on the command line (the CLI
// exits 2 for it, 1 otherwise).
import { SlipwayError } from '../../common/errors.js';

export class BuildError extends SlipwayError {
  readonly usage: boolean;
  constructor(message: string, options: { usage?: boolean; cause?: unknown } = {}) {
    super(options.usage ? 'SLIPWAY_ERR_USAGE' : 'SLIPWAY_ERR_BUILD', message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BuildError';
    this.usage = options.usage ?? false;
  }
}
