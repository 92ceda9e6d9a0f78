// The CPU an executable is built for, from its ELF header: slipway setup
// gives each host the agent executable for its CPU, and an agent upgrade
// keeps an executable only where it can run.
import { closeSync, openSync, readSync } from 'node:fs';
import { SlipwayError } from './errors.js';

/** x64, arm64 (Node's process.arch names), or elf-machine-N; SLIPWAY_ERR_CONFIG when the file is not ELF. */
export function elfArch(file: string): string {
  const b = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  try { readSync(fd, b, 0, 20, 0); } finally { closeSync(fd); }
  if (b.readUInt32BE(0) !== 0x7f454c46) throw new SlipwayError('SLIPWAY_ERR_CONFIG', `${file} is not a Linux executable (no ELF header): give the single executable (npm run build:sea)`);
  const machine = b.readUInt16LE(18);
  return machine === 0x3e ? 'x64' : machine === 0xb7 ? 'arm64' : `elf-machine-${machine}`;
}
