// Worker thread of host-facts.ts: reads what the host is with
// systeminformation and posts it, then ends (the module and its memory go
// with the thread: the agent's own heap never holds systeminformation).
import { parentPort } from 'node:worker_threads';
import si from 'systeminformation';

const [os, cpu, mem, fs] = await Promise.all([si.osInfo(), si.cpu(), si.mem(), si.fsSize()]);
parentPort?.postMessage({
  os: { distro: os.distro, release: os.release, kernel: os.kernel, arch: os.arch },
  cpu: { manufacturer: cpu.manufacturer, brand: cpu.brand, cores: cpu.cores, physical_cores: cpu.physicalCores },
  memory_total: mem.total,
  filesystems: fs.map((f) => ({ mount: f.mount, type: f.type, size: f.size })),
});
