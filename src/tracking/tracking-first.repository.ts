import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';

/** The only writer of tracking_firsts (the first open, first click, first click per link of a message). */
export class TrackingFirstRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): TrackingFirstRepository {
    return new TrackingFirstRepository(trx);
  }

  /** Retention: deletes up to `limit` rows created before `before` (one statement); returns how many. */
  async pruneBefore(before: Date, limit: number): Promise<number> {
    const result = await this.db
      .deleteFrom('tracking_firsts')
      .where((eb) =>
        eb(
          eb.refTuple('message_id', 'kind', 'key'),
          'in',
          eb
            .selectFrom('tracking_firsts as t')
            .select(['t.message_id', 't.kind', 't.key'])
            .where('t.created_at', '<', before.toISOString())
            .limit(limit)
            .$asTuple('message_id', 'kind', 'key'),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
