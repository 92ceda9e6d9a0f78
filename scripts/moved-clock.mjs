// Loaded with --import for the unit tests' second run (scripts/test.sh
// moved-clock): every Date this process makes is SLIPWAY_CLOCK_OFFSET_DAYS
// (default 400) days ahead of the real one. Together with a TZ far from UTC,
// a test that builds an expected string from the real date or time zone,
// instead of the clock it injected, fails here on any day.
const days = Number(process.env.SLIPWAY_CLOCK_OFFSET_DAYS ?? '400');
if (!Number.isFinite(days)) throw new Error(`SLIPWAY_CLOCK_OFFSET_DAYS must be a number of days, not "${process.env.SLIPWAY_CLOCK_OFFSET_DAYS}"`);
const offsetMs = days * 86_400_000;
const RealDate = globalThis.Date;

class MovedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offsetMs);
    else super(...args);
  }

  static now() {
    return RealDate.now() + offsetMs;
  }
}

globalThis.Date = MovedDate;
