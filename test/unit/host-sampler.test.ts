// The host sampler's parsers and arithmetic (agent/monitoring/proc-stats.ts), and one
// real sample of this machine through HostSampler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { parseProcStat, hostCpuPercent, parseMeminfo, parseOpenFilesLimit, cpuPercent, readProcSample, readOpenFilesLimit } from '../../agent/monitoring/proc-stats.js';
import { HostSampler } from '../../agent/monitoring/host-sampler.js';

test('/proc/stat: CPU busy percent between two readings; the first reading gives none (never "since boot")', () => {
  const a = parseProcStat('cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n');
  assert.deepEqual(a, { idle: 800, total: 1000 });
  const b = parseProcStat('cpu  150 0 150 750 150 0 0 0 0 0\n');
  assert.equal(hostCpuPercent(undefined, a), undefined);
  assert.equal(hostCpuPercent(a, b), 50);
  assert.equal(hostCpuPercent(b, b), undefined, 'no ticks passed');
});

test('/proc/meminfo and /proc/<pid>/limits parse', () => {
  assert.deepEqual(parseMeminfo('MemTotal:       16384 kB\nMemFree:  1 kB\nMemAvailable:    8192 kB\n'), { total: 16384 * 1024, available: 8192 * 1024 });
  const limits = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n';
  assert.equal(parseOpenFilesLimit(limits), 1024);
  assert.equal(parseOpenFilesLimit('Max open files            unlimited            unlimited            files\n'), 0);
});

test('process CPU percent of one core from two samples', () => {
  assert.equal(cpuPercent(undefined, { cpuSeconds: 1, rssBytes: 0, at: 0 }), undefined);
  assert.equal(cpuPercent({ cpuSeconds: 1, rssBytes: 0, at: 0 }, { cpuSeconds: 1.5, rssBytes: 0, at: 1000 }), 50);
});

test('this process: /proc/self figures are read', async () => {
  const s = await readProcSample('self');
  assert.ok(s && s.rssBytes > 0 && s.cpuSeconds > 0);
  assert.ok((await readOpenFilesLimit('self')) > 0);
  assert.equal(await readProcSample(2 ** 22 + 12345), undefined, 'a pid that does not exist');
});

test('HostSampler: a sample at start, served from its cache', async () => {
  const sampler = new HostSampler({ stateDir: tmpdir(), runtimes: () => Promise.resolve([]), releaseCount: () => Promise.resolve(0) }, 60_000);
  await sampler.start();
  try {
    const h = sampler.host();
    assert.ok(h);
    assert.ok(h.memory_total > 0 && h.memory_available > 0);
    assert.ok(h.disk_total > 0 && h.disk_free > 0 && h.disk_free <= h.disk_total);
    assert.equal(h.disk_path, tmpdir());
    assert.ok(h.cpu_percent >= 0 && h.cpu_percent <= 100);
    assert.equal(sampler.samples, 1);
    assert.equal(sampler.host(), h, 'reading does not sample');
    await sampler.sampleNow();
    assert.equal(sampler.samples, 2);
    assert.ok(sampler.agentOpenFilesLimit > 0);
  } finally {
    sampler.stop();
  }
});
