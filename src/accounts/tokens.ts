import { createHash } from 'node:crypto';
import { randomBase62 } from '../auth/api-key.js';

/**
 * Bearer secrets of accounts — session cookies (`mcs_…`), invitation links
 * (`mci_…`), the setup link (`mcu_…`): 43 base62 characters (256 bits) after a
 * prefix that says what the token is. Only the SHA-256 is stored, so a
 * leaked database lets no one in; the look-up is by that hash (indexed), and
 * a token of the wrong shape is refused without a query.
 */
export type TokenKind = 'session' | 'invitation' | 'setup';

const PREFIX: Record<TokenKind, string> = { session: 'mcs_', invitation: 'mci_', setup: 'mcu_' };
const SECRET_LENGTH = 43;

export const newToken = (kind: TokenKind): string => `${PREFIX[kind]}${randomBase62(SECRET_LENGTH)}`;

export const isWellFormedToken = (kind: TokenKind, token: string): boolean =>
  token.length === PREFIX[kind].length + SECRET_LENGTH && token.startsWith(PREFIX[kind]) && /^[0-9A-Za-z]+$/.test(token.slice(PREFIX[kind].length));

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');
