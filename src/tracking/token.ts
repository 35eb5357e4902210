import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Tracking tokens: what `/track/o/{token}` and `/track/c/{token}` carry. A
 * token is sealed with AES-256-GCM under a key derived from the server
 * secret for tracking alone (HKDF, its own info string), so it is opaque
 * (the URL and ids cannot be read from it) and authenticated (a truncated,
 * altered, forged or other-server token does not open, and a click token
 * never yields a URL it was not sealed with — no open redirect).
 *
 * Layout, base64url without padding: `01 | iv (12) | ciphertext | tag (16)`;
 * the plaintext is `kind (1) | tenant (16) | campaign (16) | message id
 * (8, big-endian) | URL (UTF-8, clicks only)`. The first byte (the format
 * version) is also the additional authenticated data.
 */
export type TrackingKind = 'open' | 'click';

export interface TrackingClaims {
  kind: TrackingKind;
  tenantId: string;
  campaignId: string;
  messageId: number;
  /** The destination of a click; absent for an open. */
  url?: string;
}

const VERSION = 1;
const INFO = 'mailingcore/tracking/v1/aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEAD_BYTES = 1 + 16 + 16 + 8;
const KIND_BYTE: Record<TrackingKind, number> = { open: 0x6f, click: 0x63 };
/** The campaign a transactional email's tracking tokens name: none (the nil UUID). */
export const NO_CAMPAIGN = '00000000-0000-0000-0000-000000000000';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Longest destination a click token carries (the link rewriter leaves longer links alone). */
export const MAX_TRACKED_URL_BYTES = 2048;
/** Longest token this module issues, with room to spare: anything longer is refused before any work. */
export const MAX_TOKEN_CHARS = Math.ceil(((1 + IV_BYTES + HEAD_BYTES + MAX_TRACKED_URL_BYTES + TAG_BYTES) * 4) / 3);

const uuidBytes = (uuid: string): Buffer => Buffer.from(uuid.replace(/-/g, ''), 'hex');
const uuidOf = (bytes: Buffer): string => {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/** The tracking key: HKDF-SHA256 of the server secret with tracking's own info string. */
export function trackingKey(serverSecret: string): Buffer {
  if (serverSecret.length === 0) throw new Error('tracking tokens: the server secret is empty');
  return Buffer.from(hkdfSync('sha256', serverSecret, Buffer.alloc(0), INFO, 32));
}

export class TrackingTokens {
  private readonly key: Buffer;
  private readonly aad = Buffer.from([VERSION]);

  /** From the server secret, or from a key derived by `trackingKey` (what crosses to the render threads). */
  constructor(secretOrKey: string | Uint8Array) {
    this.key = typeof secretOrKey === 'string' ? trackingKey(secretOrKey) : Buffer.from(secretOrKey);
    if (this.key.length !== 32) throw new Error('tracking tokens: the key must be 32 bytes');
  }

  seal(claims: TrackingClaims): string {
    for (const id of [claims.tenantId, claims.campaignId]) if (!UUID.test(id)) throw new Error(`tracking token: "${id}" is not a UUID`);
    if (!Number.isSafeInteger(claims.messageId) || claims.messageId < 0) throw new Error(`tracking token: bad message id ${claims.messageId}`);
    const url = claims.kind === 'click' ? Buffer.from(claims.url ?? '', 'utf8') : Buffer.alloc(0);
    if (claims.kind === 'click' && (url.length === 0 || url.length > MAX_TRACKED_URL_BYTES)) throw new Error('tracking token: bad click URL');
    const head = Buffer.alloc(HEAD_BYTES);
    head[0] = KIND_BYTE[claims.kind];
    uuidBytes(claims.tenantId).copy(head, 1);
    uuidBytes(claims.campaignId).copy(head, 17);
    head.writeBigUInt64BE(BigInt(claims.messageId), 33);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(this.aad);
    const body = Buffer.concat([cipher.update(head), cipher.update(url), cipher.final()]);
    return Buffer.concat([this.aad, iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The claims of a genuine token of the expected kind; undefined for anything else. Never throws. */
  open(token: string, kind: TrackingKind): TrackingClaims | undefined {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
    const bytes = Buffer.from(token, 'base64url');
    // One token per sealed value: a re-encoding of the same bytes (different trailing bits) is refused.
    if (bytes.length < 1 + IV_BYTES + HEAD_BYTES + TAG_BYTES || bytes[0] !== VERSION || bytes.toString('base64url') !== token) return undefined;
    const iv = bytes.subarray(1, 1 + IV_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const body = bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES);
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(this.aad);
      decipher.setAuthTag(tag);
      plain = Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      return undefined;
    }
    if (plain[0] !== KIND_BYTE[kind]) return undefined;
    const claims: TrackingClaims = {
      kind,
      tenantId: uuidOf(plain.subarray(1, 17)),
      campaignId: uuidOf(plain.subarray(17, 33)),
      messageId: Number(plain.readBigUInt64BE(33)),
    };
    if (kind === 'click') {
      if (plain.length === HEAD_BYTES) return undefined;
      claims.url = plain.subarray(HEAD_BYTES).toString('utf8');
    } else if (plain.length !== HEAD_BYTES) return undefined;
    return claims;
  }
}
