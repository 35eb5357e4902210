import { describe, expect, it } from 'vitest';
import { SecretBox, SecretBoxError } from '../../src/shared/secret-box.js';

const box = new SecretBox('server-secret-one');

/** Flips one bit of the byte at `index` of a base64url part. */
function flip(part: string, index = 0): string {
  const bytes = Buffer.from(part, 'base64url');
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString('base64url');
}

describe('SecretBox', () => {
  it('round-trips short secrets, including empty and non-ASCII ones', () => {
    for (const secret of ['hunter2', '', 'pässwörd 🔑', 'x'.repeat(1024)]) {
      expect(box.decrypt(box.encrypt(secret))).toBe(secret);
    }
  });

  it('writes v1.<iv>.<tag>.<ciphertext> in base64url with a 12-byte IV and a 16-byte tag', () => {
    const sealed = box.encrypt('hunter2');
    const [version, iv, tag, ciphertext, ...rest] = sealed.split('.');
    expect(version).toBe('v1');
    expect(rest).toEqual([]);
    for (const part of [iv, tag, ciphertext]) expect(part).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
    expect(sealed).not.toContain('hunter2');
  });

  it('uses a fresh IV each time, so equal secrets do not look equal', () => {
    const a = box.encrypt('same');
    const b = box.encrypt('same');
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
  });

  it('refuses to open with another server secret', () => {
    const sealed = box.encrypt('hunter2');
    expect(() => new SecretBox('server-secret-two').decrypt(sealed)).toThrow(SecretBoxError);
  });

  it('refuses tampered IV, tag or ciphertext', () => {
    const [version, iv, tag, ciphertext] = box.encrypt('hunter2').split('.') as [string, string, string, string];
    const tampered = [
      [version, flip(iv), tag, ciphertext],
      [version, iv, flip(tag), ciphertext],
      [version, iv, tag, flip(ciphertext)],
      [version, iv, tag, flip(ciphertext, 6)],
    ];
    for (const parts of tampered) expect(() => box.decrypt(parts.join('.'))).toThrow(SecretBoxError);
  });

  it('binds the context: a value sealed for one row does not open for another', () => {
    const sealed = box.encrypt('hunter2', 'project:a');
    expect(box.decrypt(sealed, 'project:a')).toBe('hunter2');
    expect(() => box.decrypt(sealed, 'project:b')).toThrow(SecretBoxError);
    expect(() => box.decrypt(sealed)).toThrow(SecretBoxError);
  });

  it('refuses malformed values with a SecretBoxError', () => {
    const sealed = box.encrypt('hunter2');
    const [, iv, tag, ciphertext] = sealed.split('.') as [string, string, string, string];
    for (const bad of [
      '',
      'hunter2',
      sealed.replace(/^v1/, 'v2'),
      `v1.${iv}.${tag}`,
      `${sealed}.extra`,
      `v1.${iv.slice(2)}.${tag}.${ciphertext}`,
      `v1.${iv}.${tag.slice(4)}.${ciphertext}`,
    ]) {
      expect(() => box.decrypt(bad), bad).toThrow(SecretBoxError);
    }
  });

  it('refuses an empty server secret', () => {
    expect(() => new SecretBox('')).toThrow(SecretBoxError);
  });
});
