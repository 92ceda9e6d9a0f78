// Baseline for the upload benchmark: the same bytes over a plain TCP socket
// on loopback, between this process and a child process. The child (this file
// run with --receive FILE) listens on 127.0.0.1, hashes what arrives with
// sha256 while writing it to FILE, fsyncs FILE (as the agent's store does
// before it answers), and replies with the hex digest. The sender streams the
// tarball with createReadStream in 1 MiB reads (the client's chunk size).
// The time runs from connect() to the digest's arrival: no gRPC, no HTTP/2,
// no protobuf, so it is what the machine can do with one stream.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface BaselineResult { ms: number; bytes: number; sha256: string }

/** A receiver child process, started and listening, not yet timed. */
export interface BaselineReceiver { child: ChildProcess; port: number; stop(): Promise<void> }

export function startReceiver(outFile: string, timeoutMs = 10_000): Promise<BaselineReceiver> {
  // execArgv carries --import tsx when run from the sources.
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--receive', outFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { void stop(); reject(new Error(`baseline receiver did not listen within ${timeoutMs} ms`)); }, timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`baseline receiver exited (${code ?? sig}) before it listened`)); });
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      const port = Number((JSON.parse(line) as { port?: number }).port);
      if (!port) return reject(new Error(`baseline receiver said ${line}`));
      resolve({ child, port, stop });
    });
  });
}

/** Sends `file` to a started receiver; resolves when its digest has come back. */
export function sendFile(receiver: BaselineReceiver, file: string, size: number): Promise<BaselineResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const sock = connect({ host: '127.0.0.1', port: receiver.port });
    let reply = '';
    sock.setEncoding('utf8');
    sock.on('data', (s: string) => { reply += s; });
    sock.on('error', reject);
    sock.on('end', () => {
      const ms = performance.now() - started;
      const sha256 = reply.trim();
      if (!/^[0-9a-f]{64}$/.test(sha256)) return reject(new Error(`baseline receiver replied ${JSON.stringify(reply.slice(0, 200))}`));
      resolve({ ms, bytes: size, sha256 });
    });
    sock.once('connect', () => {
      const rs = createReadStream(file, { highWaterMark: 1 << 20 });
      rs.on('error', (err) => { sock.destroy(); reject(err); });
      rs.pipe(sock); // ends the writable side when the file is done; the reply still arrives
    });
  });
}

/** The receiver: one connection, hash + write + fsync, reply with the digest, exit. */
async function receive(outFile: string): Promise<void> {
  const ws = createWriteStream(outFile, { flags: 'wx', mode: 0o600 });
  await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    server.close();
    const hash = createHash('sha256');
    sock.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      if (!ws.write(chunk)) {
        sock.pause();
        ws.once('drain', () => sock.resume());
      }
    });
    sock.on('end', () => {
      ws.end(() => {
        void (async () => {
          const fh = await open(outFile, 'r');
          try { await fh.sync(); } finally { await fh.close(); }
          sock.end(`${hash.digest('hex')}\n`, () => process.exit(0));
        })().catch((err: unknown) => { console.error(err); process.exit(1); });
      });
    });
    sock.on('error', (err) => { console.error(err); process.exit(1); });
  });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`);
  });
  process.once('SIGTERM', () => process.exit(143));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--receive');
  if (i < 0 || !process.argv[i + 1]) {
    console.error('usage: node dist/bench/upload-baseline.js --receive FILE   (started by bench/pipeline.ts)');
    process.exit(2);
  }
  await receive(process.argv[i + 1]!);
}
