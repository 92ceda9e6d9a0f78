// What the host is, read once when the agent starts, for /status: the OS,
// the CPU model, the memory and the file systems, through systeminformation
// (which answers these from /etc/os-release, /proc, lsblk and df, whatever
// the distribution), in a short-lived worker thread (host-facts-worker.ts),
// so that the library's code and data leave with the thread. Not on the hot
// path: the figures that change (CPU, memory available, disk free) come from
// host-sampler.ts's cached /proc reads. A failure or a slow host leaves the
// facts out (null in /status) and is logged; the start never waits for it.
import { startWorker, entryUrl } from '../worker-file.js';

export interface HostFacts {
  os: { distro: string; release: string; kernel: string; arch: string };
  cpu: { manufacturer: string; brand: string; cores: number; physical_cores: number };
  memory_total: number;
  filesystems: { mount: string; type: string; size: number }[];
  read_at: string;
}

/** Reads the facts in a worker; rejects when it fails, or takes longer than timeoutMs. */
export function readHostFacts(timeoutMs = 15_000, now: () => Date = () => new Date()): Promise<HostFacts> {
  const w = startWorker(entryUrl('hostFactsWorker', new URL('./host-facts-worker.js', import.meta.url)));
  return new Promise<HostFacts>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`no answer within ${timeoutMs / 1000} s`)); void w.terminate(); }, timeoutMs);
    w.once('message', (m: Omit<HostFacts, 'read_at'>) => { clearTimeout(timer); resolve({ ...m, read_at: now().toISOString() }); void w.terminate(); });
    w.once('error', (err) => { clearTimeout(timer); reject(err); });
    w.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the worker ended (${code}) without an answer`)); });
  });
}
