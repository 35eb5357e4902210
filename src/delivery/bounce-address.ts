import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * VERP return paths: every campaign email's envelope sender is
 * `bounces+<token>@<bounce domain>`, so a bounce or a complaint that comes
 * back later, by mail, names its message without our having to read the
 * bounce's body. The token is lower-case base32 (local parts are
 * case-insensitive in practice; some MTAs lower-case them) of
 * `tenant (16) | message id (8, big-endian) | HMAC-SHA256 (10)`: 34 bytes,
 * 55 characters, so the local part is 63 characters (RFC 5321's limit: 64).
 * The HMAC key is derived from the server secret for return paths alone
 * (HKDF, its own info string). 80 bits of MAC: forging one address takes
 * 2^80 tries, each a full SMTP transaction refused at RCPT.
 */
export interface BounceClaims {
  tenantId: string;
  /** The `messages` row the email was. */
  messageId: number;
}

const INFO = 'mailingcore/bounce-address/v1/hmac-sha256';
const PAYLOAD_BYTES = 16 + 8;
const MAC_BYTES = 10;
const TOKEN_CHARS = Math.ceil(((PAYLOAD_BYTES + MAC_BYTES) * 8) / 5);
const LOCAL_PREFIX = 'bounces+';
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TOKEN = new RegExp(`^[a-z2-7]{${TOKEN_CHARS}}$`);

/** The return-path key: HKDF-SHA256 of the server secret with this purpose's own info string. */
export function bounceKey(serverSecret: string): Buffer {
  if (serverSecret.length === 0) throw new Error('bounce addresses: the server secret is empty');
  return Buffer.from(hkdfSync('sha256', serverSecret, Buffer.alloc(0), INFO, 32));
}

function mac(key: Buffer, payload: Buffer): Buffer {
  return createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);
}

function base32(bytes: Buffer): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** Undefined for non-canonical input (trailing bits set). */
function unbase32(text: string): Buffer | undefined {
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    buffer = (buffer << 5) | ALPHABET.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bytes.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    buffer &= (1 << bits) - 1;
  }
  return buffer === 0 ? Buffer.from(bytes) : undefined;
}

export function createBounceToken(key: Buffer, claims: BounceClaims): string {
  if (!UUID.test(claims.tenantId)) throw new Error(`bounce token: "${claims.tenantId}" is not a UUID`);
  if (!Number.isSafeInteger(claims.messageId) || claims.messageId < 0) throw new Error(`bounce token: bad message id ${claims.messageId}`);
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  Buffer.from(claims.tenantId.replace(/-/g, ''), 'hex').copy(payload, 0);
  payload.writeBigUInt64BE(BigInt(claims.messageId), 16);
  return base32(Buffer.concat([payload, mac(key, payload)]));
}

/** The claims of a genuine token; undefined for anything else. Never throws. */
export function verifyBounceToken(key: Buffer, token: string): BounceClaims | undefined {
  if (typeof token !== 'string' || !TOKEN.test(token)) return undefined;
  const bytes = unbase32(token);
  if (!bytes || bytes.length !== PAYLOAD_BYTES + MAC_BYTES) return undefined;
  const payload = bytes.subarray(0, PAYLOAD_BYTES);
  if (!timingSafeEqual(bytes.subarray(PAYLOAD_BYTES), mac(key, payload))) return undefined;
  const hex = payload.subarray(0, 16).toString('hex');
  const messageId = payload.readBigUInt64BE(16);
  if (messageId > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return {
    tenantId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    messageId: Number(messageId),
  };
}

export function bounceAddress(key: Buffer, claims: BounceClaims, domain: string): string {
  return `${LOCAL_PREFIX}${createBounceToken(key, claims)}@${domain}`;
}

/**
 * The claims of an address this server issued (the domain is not checked:
 * the bounce domain may be BOUNCE_DOMAIN or any tenant's return-path host,
 * and the MAC is what makes the address ours). Case-insensitive, since
 * some relays upper-case the whole address.
 */
export function verifyBounceAddress(key: Buffer, address: string): BounceClaims | undefined {
  if (typeof address !== 'string' || address.length > 320) return undefined;
  const at = address.lastIndexOf('@');
  if (at < 0) return undefined;
  const local = address.slice(0, at).toLowerCase();
  if (!local.startsWith(LOCAL_PREFIX)) return undefined;
  return verifyBounceToken(key, local.slice(LOCAL_PREFIX.length));
}
