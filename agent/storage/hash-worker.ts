// The worker side of the upload hasher: sha256 of each upload in flight, off
// the agent's event loop. Messages: update (bytes, transferred), digest, drop.
import { parentPort } from 'node:worker_threads';
import { createHash, type Hash } from 'node:crypto';

export type HashRequest =
  | { op: 'update'; id: number; data: Uint8Array }
  | { op: 'digest'; id: number }
  | { op: 'drop'; id: number };

export interface HashReply {
  id: number;
  digest: string;
}

const hashes = new Map<number, Hash>();

parentPort?.on('message', (m: HashRequest) => {
  if (m.op === 'update') {
    let h = hashes.get(m.id);
    if (!h) {
      h = createHash('sha256');
      hashes.set(m.id, h);
    }
    h.update(m.data);
  } else if (m.op === 'digest') {
    const h = hashes.get(m.id) ?? createHash('sha256');
    hashes.delete(m.id);
    parentPort?.postMessage({ id: m.id, digest: h.digest('hex') } satisfies HashReply);
  } else {
    hashes.delete(m.id);
  }
});
