import { randomBytes } from 'node:crypto';

/** Secrets are sealed at rest bound to their endpoint (SecretBox context): a sealed value copied to another row does not open. */
export const webhookSecretContext = (endpointId: string): string => `webhook:${endpointId}`;

export const MIN_SECRET_LENGTH = 32;

/** `whsec_` and 32 random bytes, base64url (43 characters). */
export const generateWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;
