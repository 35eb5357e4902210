import { createHmac } from 'node:crypto';

/**
 * The webhook signature (pure): `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<raw body>" keyed with the endpoint secret>`. Signing the timestamp
 * with the body lets receivers refuse replays older than a few minutes; the
 * SDK's `verifyWebhook` checks exactly this (sdk/src/webhooks.ts).
 */
export const SIGNATURE_HEADER = 'X-MailingCore-Signature';

export function webhookSignature(rawBody: string | Buffer, secret: string, timestampSeconds: number): string {
  const t = Math.floor(timestampSeconds);
  const mac = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex');
  return `t=${t},v1=${mac}`;
}
