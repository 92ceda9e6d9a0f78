// The one way a time is shown to a person, everywhere (CLI tables and
// messages, the agent's messages, the web page): UTC, ISO-like, to the
// second, e.g. "2026-12-02 14:05:09Z". Never the local time zone or locale,
// so that two operators (and the hosts) read the same words. Machine output
// (--json, state files, logs) keeps full RFC 3339 with milliseconds.

/** "2026-12-02 14:05:09Z" for a Date, epoch ms or an ISO string; "-" for an empty or unreadable one. */
export function formatTime(t: Date | number | string | null | undefined): string {
  if (t === null || t === undefined || t === '') return '-';
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) return typeof t === 'string' ? t : '-';
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)}Z`;
}
