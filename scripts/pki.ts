// A CA, agent and deployer certificates, and a release signing key in a temp
// dir, made the way an operator makes them (slipway certs, slipway keys):
// what the demo, the local fleet and the integration tests run with.
import { join } from 'node:path';
import { initCa, issue, type Issued } from '../coordinator/certs.js';
import { generateSigningKey, type GeneratedKey } from '../common/signing.js';

export interface Pki {
  dir: string;
  ca: string;
  /** The deployer certificate the coordinator uses ("ci-1"). */
  deployer: Issued;
  signing: GeneratedKey;
  /** slipway.yaml's tls block (flow style, absolute paths). */
  coordinatorTls: string;
  /** An agent certificate for these addresses (loopback names by default). */
  agentCert(name: string, hosts?: string[]): Promise<Issued>;
}

/** One generation per process is enough: each call makes a fresh CA in `dir`. */
export async function makePki(dir: string, deployerName = 'ci-1'): Promise<Pki> {
  await initCa(dir, { name: 'slipway test CA' });
  const deployer = await issue(dir, deployerName, 'deployer');
  const signing = await generateSigningKey(join(dir, 'release'));
  return {
    dir, ca: deployer.ca, deployer, signing,
    coordinatorTls: `{ ca: ${deployer.ca}, cert: ${deployer.cert}, key: ${deployer.key} }`,
    agentCert: (name, hosts = ['localhost', '127.0.0.1']) => issue(dir, name, 'agent', { hosts }),
  };
}
