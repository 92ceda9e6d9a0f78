// The agent's check of release signatures against its trusted_keys
// (common/signing.ts has the format). Called when an upload begins, before
// anything is stored, and again before a stored tarball is unpacked (a key
// removed from trusted_keys since then no longer counts). With no trusted
// key and no allow_unsigned, every release is refused.
import type { KeyObject } from 'node:crypto';
import { SlipwayError } from '../../common/errors.js';
import { keyIdOf, readPublicKey, verifySignature, type SignedFields } from '../../common/signing.js';

export interface SignatureInput extends SignedFields {
  signature: Buffer;
  key_id: string;
}

export interface Verified {
  signed: boolean;
  key_id: string;
}

const denied = (msg: string) => new SlipwayError('SLIPWAY_ERR_SIGNATURE', msg);

export class ReleaseVerifier {
  private keys = new Map<string, { key: KeyObject; file: string }>();

  constructor(private readonly files: string[], readonly allowUnsigned: boolean) {
    this.reload();
  }

  /** Reads the trusted key files (throws, naming the file, when one is unusable). */
  reload(): string[] {
    const next = new Map<string, { key: KeyObject; file: string }>();
    for (const file of this.files) {
      const key = readPublicKey(file);
      next.set(keyIdOf(key), { key, file });
    }
    this.keys = next;
    return [...next.keys()];
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** Throws PERMISSION_DENIED with the reason, or says how the release passed. */
  check(r: SignatureInput): Verified {
    const what = `release ${r.app} ${r.version}`;
    if (r.signature.length === 0) {
      if (this.allowUnsigned) return { signed: false, key_id: '' };
      if (this.keys.size === 0) {
        throw denied(`${what} is not signed, and this agent accepts no release: it trusts no key (trusted_keys is empty) and allow_unsigned is off; add the release public key (slipway keys generate) to trusted_keys`);
      }
      throw denied(`${what} is not signed, and this agent accepts only releases signed by a trusted key (${this.keyIds.join(', ')}); set signing_key in slipway.yaml and build it again`);
    }
    if (!/^[0-9a-f]{64}$/.test(r.manifest_sha256)) {
      throw denied(`${what} is signed but its manifest digest is missing or malformed, so the signature cannot be checked`);
    }
    const trusted = this.keys.get(r.key_id);
    if (!trusted) {
      // allow_unsigned (loopback only): a signature by a key we do not know proves nothing either way.
      if (this.allowUnsigned) return { signed: false, key_id: '' };
      throw denied(`${what} is signed by key ${r.key_id || '(no key id)'}, which this agent does not trust (trusted_keys: ${this.keyIds.join(', ') || 'none'})`);
    }
    if (!verifySignature(trusted.key, r, r.signature)) {
      throw denied(`the signature of ${what} does not verify with key ${r.key_id}: its tarball digest, manifest digest, app or version differ from what was signed (tampered or corrupt); nothing was stored`);
    }
    return { signed: true, key_id: r.key_id };
  }
}
