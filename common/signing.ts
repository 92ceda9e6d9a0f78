// Release signatures: ed25519 (node:crypto) over a fixed text that names the
// app, the version, the tarball's sha256 and the sha256 of its manifest
// (slipway.json, as bytes). `slipway build` signs; the agent verifies against
// its trusted_keys before anything is stored, checks the tarball's sha256
// as the bytes arrive, and the manifest's digest when it unpacks.
//
// key id = the first 16 hex digits of sha256(the public key's SPKI DER), so
// an agent can say which key signed a release it does not trust.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile, rename, chmod, access } from 'node:fs/promises';
import { SlipwayError } from './errors.js';

export interface SignedFields {
  app: string;
  version: string;
  /** sha256 of the tarball, hex */
  sha256: string;
  /** sha256 of slipway.json's bytes, hex */
  manifest_sha256: string;
}

/** `<tarball>.sig`: written by slipway build beside the tarball, read by slipway deploy. */
export interface ReleaseSignature extends SignedFields {
  schema: 1;
  key_id: string;
  /** base64 of the 64-byte ed25519 signature */
  signature: string;
}

export const SIGNATURE_SUFFIX = '.sig';

export function signedPayload(f: SignedFields): Buffer {
  return Buffer.from(`slipway-release-v1\napp ${f.app}\nversion ${f.version}\nsha256 ${f.sha256}\nmanifest_sha256 ${f.manifest_sha256}\n`);
}

export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** An ed25519 key from a PEM file, with errors that say which file and what to do. */
function readKey(file: string, kind: 'private' | 'public'): KeyObject {
  const what = kind === 'private' ? 'the signing key' : 'the trusted key';
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new SlipwayError('SLIPWAY_ERR_CREDENTIALS', `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (err) {
    throw new SlipwayError('SLIPWAY_ERR_CREDENTIALS', `${file} is not a PEM ${kind} key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SlipwayError('SLIPWAY_ERR_CREDENTIALS', `${file} is a ${key.asymmetricKeyType} key; ${kind === 'private' ? 'release signing keys are ed25519' : 'trusted release keys are ed25519 public keys'} (slipway keys generate)`);
  }
  return key;
}

export function readPrivateKey(file: string): KeyObject {
  return readKey(file, 'private');
}

export function readPublicKey(file: string): KeyObject {
  return readKey(file, 'public');
}

export function signRelease(key: KeyObject, f: SignedFields): ReleaseSignature {
  return {
    schema: 1, app: f.app, version: f.version, sha256: f.sha256, manifest_sha256: f.manifest_sha256,
    key_id: keyIdOf(key), signature: sign(null, signedPayload(f), key).toString('base64'),
  };
}

export function verifySignature(key: KeyObject, f: SignedFields, signature: Buffer): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, signedPayload(f), key, signature);
  } catch {
    return false;
  }
}

export interface GeneratedKey {
  private: string;
  public: string;
  keyId: string;
}

/** Writes BASE.key (mode 0600) and BASE.pub; refuses to overwrite unless force. */
export async function generateSigningKey(base: string, force = false): Promise<GeneratedKey> {
  const priv = `${base}.key`;
  const pub = `${base}.pub`;
  if (!force) {
    for (const f of [priv, pub]) {
      const there = await access(f).then(() => true, () => false);
      if (there) throw Object.assign(new Error(`${f} exists already; pass --force to replace it (releases signed with the old key will need the old .pub kept in trusted_keys)`), { usage: true });
    }
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const put = async (file: string, text: string, mode: number) => {
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, text, { mode, flag: 'wx' });
    await chmod(tmp, mode);
    await rename(tmp, file);
  };
  await put(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
  await put(pub, publicKey.export({ type: 'spki', format: 'pem' }) as string, 0o644);
  return { private: priv, public: pub, keyId: keyIdOf(publicKey) };
}
