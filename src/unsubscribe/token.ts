import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Unsubscribe tokens name a tenant, a contact and a campaign, signed with
 * HMAC-SHA256 under the server secret: `<payload>.<signature>`, both base64url.
 * The payload is the three UUIDs as 48 raw bytes, which keeps links short.
 * Verification compares signatures in constant time.
 */
export interface UnsubscribeClaims {
  tenantId: string;
  contactId: string;
  /** The campaign the email belonged to; null for a test send or preview. */
  campaignId: string | null;
}

const NIL = '00000000-0000-0000-0000-000000000000';
const SIGNATURE_BYTES = 16;

const uuidToBytes = (uuid: string) => Buffer.from(uuid.replace(/-/g, ''), 'hex');
const bytesToUuid = (bytes: Buffer) => {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function sign(secret: string, payload: Buffer): Buffer {
  return createHmac('sha256', secret).update('unsubscribe.v1.').update(payload).digest().subarray(0, SIGNATURE_BYTES);
}

export function createUnsubscribeToken(secret: string, claims: UnsubscribeClaims): string {
  for (const id of [claims.tenantId, claims.contactId, claims.campaignId ?? NIL]) {
    if (!UUID.test(id)) throw new Error(`unsubscribe token: "${id}" is not a UUID`);
  }
  const payload = Buffer.concat([
    uuidToBytes(claims.tenantId),
    uuidToBytes(claims.contactId),
    uuidToBytes(claims.campaignId ?? NIL),
  ]);
  return `${payload.toString('base64url')}.${sign(secret, payload).toString('base64url')}`;
}

/** The claims of a genuine token; undefined for anything tampered with or malformed. */
export function verifyUnsubscribeToken(secret: string, token: string): UnsubscribeClaims | undefined {
  if (token.length > 200) return undefined;
  const [encodedPayload, encodedSignature, ...rest] = token.split('.');
  if (!encodedPayload || !encodedSignature || rest.length > 0) return undefined;
  const payload = Buffer.from(encodedPayload, 'base64url');
  const signature = Buffer.from(encodedSignature, 'base64url');
  if (payload.length !== 48 || signature.length !== SIGNATURE_BYTES) return undefined;
  // One token per claim set: refuse non-canonical encodings of the same bytes.
  if (payload.toString('base64url') !== encodedPayload || signature.toString('base64url') !== encodedSignature) {
    return undefined;
  }
  if (!timingSafeEqual(signature, sign(secret, payload))) return undefined;
  const campaignId = bytesToUuid(payload.subarray(32, 48));
  return {
    tenantId: bytesToUuid(payload.subarray(0, 16)),
    contactId: bytesToUuid(payload.subarray(16, 32)),
    campaignId: campaignId === NIL ? null : campaignId,
  };
}
