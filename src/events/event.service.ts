import { decodeCursor, encodeCursor } from '../shared/cursor.js';
import { isId } from '../shared/ids.js';
import { toPublicEvent } from './event-log.js';
import type { EventRepository } from './event.repository.js';
import type { EventList, ListEventsQuery } from './event.schemas.js';

/** Reading the event log: keyset pages over the time-ordered event id, newest or oldest first. */
export class EventService {
  constructor(private readonly deps: { events: EventRepository }) {}

  async list(tenantId: string, query: ListEventsQuery): Promise<EventList> {
    // An id that cannot be ours matches nothing (no query needed, no error: a filter, not a lookup).
    if ((query.campaignId !== undefined && !isId(query.campaignId)) || (query.contactId !== undefined && !isId(query.contactId))) {
      return { data: [], meta: { limit: query.limit, nextCursor: null } };
    }
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor, isId);
    const rows = await this.deps.events.list(tenantId, {
      ...(query.type ? { type: query.type } : {}),
      ...(query.campaignId ? { campaignId: query.campaignId } : {}),
      ...(query.contactId ? { contactId: query.contactId } : {}),
      ...(query.since ? { since: new Date(query.since).toISOString() } : {}),
      ...(after ? { after } : {}),
      order: query.order,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const nextCursor = rows.length > query.limit ? encodeCursor(page[page.length - 1]!.id) : null;
    return { data: page.map(toPublicEvent), meta: { limit: query.limit, nextCursor } };
  }
}
