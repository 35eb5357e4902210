import { createHash } from 'node:crypto';
import { messageEvent, type MessageSubject, type NewEvent } from '../events/event-types.js';
import type { LinkIncrement } from '../stats/campaign-stats.repository.js';
import { bucketOf, type StatIncrement } from '../stats/stat-increments.js';
import { isMachineOpen, type MachineOpenRules } from './machine-open.js';
import { NO_CAMPAIGN } from './token.js';
import type { TrackingFirstKey, TrackingFirstRow } from './tracking-first.repository.js';

/** A message as tracking counts it (read by MessageRepository.trackedMessages): who it was for, and when it was sent. */
export interface TrackedMessageRow {
  id: number;
  tenantId: string;
  /** Null for a transactional email (its tokens name NO_CAMPAIGN). */
  campaignId: string | null;
  contactId: string | null;
  email: string | null;
  externalId: string | null;
  locale: string | null;
  templateVersionId: string | null;
  sentAt: string | null;
  /** A transactional email's public id. */
  emailId?: string;
}

/** One open or click as the public route saw it (the token already verified). */
export interface Hit {
  kind: 'open' | 'click';
  tenantId: string;
  campaignId: string;
  messageId: number;
  /** Clicks: the destination. */
  url?: string;
  /** ISO 8601, when the request arrived. */
  at: string;
  userAgent?: string;
}

/** Hashes a destination for link keys (tracking_firsts.key, campaign_link_stats.url_hash). */
export const urlHash = (url: string): string => createHash('sha256').update(url).digest('base64url').slice(0, 32);

export const firstKey = (k: TrackingFirstKey) => `${k.message_id}\u0000${k.kind}\u0000${k.key}`;

/** The hits whose message still exists and belongs to the tenant and campaign the token named, oldest first, machine opens flagged. */
export function admissibleHits(
  hits: readonly Hit[],
  messages: ReadonlyMap<number, TrackedMessageRow>,
  rules: MachineOpenRules,
): { hit: Hit; message: TrackedMessageRow; machine: boolean }[] {
  const admitted: { hit: Hit; message: TrackedMessageRow; machine: boolean }[] = [];
  for (const hit of [...hits].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))) {
    const message = messages.get(hit.messageId);
    if (!message || message.tenantId !== hit.tenantId || (message.campaignId ?? NO_CAMPAIGN) !== hit.campaignId) continue;
    const machine = hit.kind === 'open' && isMachineOpen({ openedAt: hit.at, sentAt: message.sentAt, userAgent: hit.userAgent }, rules);
    admitted.push({ hit, message, machine });
  }
  return admitted;
}

/** The firsts a batch could be: each once, at its earliest hit, sorted by key (one lock order for every writer). */
export function candidateFirsts(admitted: ReturnType<typeof admissibleHits>): TrackingFirstRow[] {
  const rows = new Map<string, TrackingFirstRow>();
  const add = (row: TrackingFirstRow) => {
    const key = firstKey(row);
    if (!rows.has(key)) rows.set(key, row);
  };
  for (const { hit, machine } of admitted) {
    if (hit.kind === 'open') {
      if (!machine) add({ message_id: hit.messageId, kind: 'open', key: '', created_at: hit.at });
    } else {
      add({ message_id: hit.messageId, kind: 'click', key: '', created_at: hit.at });
      add({ message_id: hit.messageId, kind: 'link', key: urlHash(hit.url!), created_at: hit.at });
    }
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

export interface Tally {
  events: NewEvent[];
  stats: StatIncrement[];
  links: LinkIncrement[];
}

/**
 * What a batch adds (pure): every hit to the totals; the hit that took a
 * first (the earliest of its key in the batch, if the database had no row
 * for it) to the unique counts and, for a first human open and a first click
 * on a link, an event. Machine opens count in total and machine only. A
 * message whose contact was erased is counted but sends no event.
 */
export function tally(admitted: ReturnType<typeof admissibleHits>, inserted: readonly TrackingFirstKey[]): Tally {
  const firsts = new Set(inserted.map(firstKey));
  const take = (messageId: number, kind: TrackingFirstKey['kind'], key: string) => firsts.delete(firstKey({ message_id: messageId, kind, key }));
  const result: Tally = { events: [], stats: [], links: [] };
  for (const { hit, message, machine } of admitted) {
    const subject: MessageSubject = {
      tenantId: message.tenantId,
      campaignId: message.campaignId,
      messageId: message.id,
      contactId: message.contactId,
      email: message.email,
      externalId: message.externalId,
      locale: message.locale,
      templateVersionId: message.templateVersionId,
      ...(message.emailId ? { emailId: message.emailId } : {}),
    };
    const erased = message.contactId === null && message.email === null;
    const extra = hit.userAgent ? { userAgent: hit.userAgent.slice(0, 256) } : {};
    const counts: StatIncrement['counts'] = {};
    if (hit.kind === 'open') {
      counts.opened_total = 1;
      if (machine) counts.opened_machine = 1;
      else if (take(hit.messageId, 'open', '')) {
        counts.opened_unique = 1;
        if (!erased) result.events.push(messageEvent('email.opened', subject, hit.at, extra));
      }
    } else {
      const url = hit.url!;
      const hash = urlHash(url);
      counts.clicked_total = 1;
      if (take(hit.messageId, 'click', '')) counts.clicked_unique = 1;
      const firstOnLink = take(hit.messageId, 'link', hash);
      if (firstOnLink && !erased) result.events.push(messageEvent('email.clicked', subject, hit.at, { url, ...extra }));
      if (message.campaignId !== null) {
        result.links.push({ tenantId: message.tenantId, campaignId: message.campaignId, urlHash: hash, url, clicks: 1, uniqueClicks: firstOnLink ? 1 : 0 });
      }
    }
    // A transactional email has events, but no campaign to aggregate for.
    if (message.campaignId !== null) {
      result.stats.push({ tenantId: message.tenantId, campaignId: message.campaignId, bucket: bucketOf(hit.at), locale: message.locale ?? '', counts });
    }
  }
  return result;
}
