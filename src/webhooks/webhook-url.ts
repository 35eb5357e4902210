import type { ErrorDetail } from '../shared/errors.js';

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/**
 * What a webhook URL must look like (pure; where it points is the outbound
 * policy's business): absolute, `https:` (`http:` too when private targets
 * are allowed), no user name or password, at most 2048 characters. Returns
 * the normalised URL or the reason it is refused.
 */
export function parseWebhookUrl(raw: string, allowHttp: boolean): { url: URL } | { error: ErrorDetail } {
  const refuse = (message: string) => ({ error: { field: 'url', message } });
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) return refuse(`must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return refuse('must be an absolute URL such as https://example.com/webhooks');
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    return refuse(allowHttp ? 'must start with https:// or http://' : 'must start with https:// (plain http is allowed only with WEBHOOK_ALLOW_PRIVATE)');
  }
  if (url.username || url.password) return refuse('must not contain a user name or password; authenticate the request by its signature');
  if (!url.hostname) return refuse('must name a host');
  url.hash = '';
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) return refuse(`must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  return { url };
}

/** The host to resolve and connect to: without the brackets of an IPv6 literal. */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

export const portOf = (url: URL): number => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);
