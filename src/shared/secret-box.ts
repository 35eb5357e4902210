import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Encryption at rest for short secrets (SMTP passwords): AES-256-GCM with a
 * key derived from the server secret by HKDF-SHA256, so the server secret
 * itself is never used as a cipher key and other uses of it (signing
 * unsubscribe tokens) get unrelated keys.
 *
 * Sealed form: `v1.<iv>.<tag>.<ciphertext>`, each part base64url. The version
 * prefix leaves room to rotate the algorithm or key derivation later.
 *
 * An optional context (e.g. `project:<id>`) is bound as additional
 * authenticated data: a value sealed for one row does not open for another,
 * so copying ciphertext between rows does not move a password.
 */
const VERSION = 'v1';
const INFO = 'mailingcore/secret-box/v1/aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

export class SecretBox {
  private readonly key: Buffer;

  constructor(serverSecret: string) {
    if (serverSecret.length === 0) throw new SecretBoxError('the server secret is empty');
    this.key = Buffer.from(hkdfSync('sha256', serverSecret, Buffer.alloc(0), INFO, 32));
  }

  encrypt(plaintext: string, context = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const encoded = [iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64url'));
    return [VERSION, ...encoded].join('.');
  }

  /** Throws SecretBoxError for a malformed value, a wrong key, a wrong context or tampered data. */
  decrypt(sealed: string, context = ''): string {
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretBoxError('not a sealed v1 secret');
    const [iv, tag, ciphertext] = parts.slice(1).map((part) => Buffer.from(part, 'base64url')) as [Buffer, Buffer, Buffer];
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretBoxError('not a sealed v1 secret');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('cannot decrypt: wrong key, wrong context or tampered data');
    }
  }
}
