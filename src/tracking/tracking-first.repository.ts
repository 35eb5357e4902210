import { type Kysely, type Selectable } from 'kysely';
import type { DB, TrackingFirstsTable } from '../db/schema.js';

export type TrackingFirstRow = Selectable<TrackingFirstsTable>;
export type TrackingFirstKey = Pick<TrackingFirstRow, 'message_id' | 'kind' | 'key'>;

/**
 * The only writer of tracking_firsts: one row per first human open of a
 * message (`open`, key ''), first click of a message (`click`, key '') and
 * first click on each link of a message (`link`, key = the URL's hash).
 * Inserting a batch with ON CONFLICT DO NOTHING RETURNING tells firsts from
 * repeats on both engines, also when two processes flush the same keys at
 * once (the loser's row conflicts and is not returned). Holds no personal
 * data: message ids and URL hashes. Bound to a transaction with `in(trx)`.
 */
export class TrackingFirstRepository {
  constructor(private readonly db: Kysely<DB>) {}

  in(trx: Kysely<DB>): TrackingFirstRepository {
    return new TrackingFirstRepository(trx);
  }

  /** Inserts the rows not there yet (rows given once each, sorted by key: a stable lock order); returns those inserted. */
  async insertNew(rows: readonly TrackingFirstRow[]): Promise<TrackingFirstKey[]> {
    const inserted: TrackingFirstKey[] = [];
    // 4 parameters a row: 500 rows stay far below either engine's bound-parameter limit.
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = await this.db
        .insertInto('tracking_firsts')
        .values(rows.slice(i, i + 500))
        .onConflict((oc) => oc.columns(['message_id', 'kind', 'key']).doNothing())
        .returning(['message_id', 'kind', 'key'])
        .execute();
      for (const row of chunk) inserted.push({ message_id: Number(row.message_id), kind: row.kind, key: row.key });
    }
    return inserted;
  }

  /** Retention: deletes up to `limit` rows created before `before`; returns how many. */
  async pruneBefore(before: Date, limit: number): Promise<number> {
    const result = await this.db
      .deleteFrom('tracking_firsts')
      .where((eb) =>
        eb(
          eb.refTuple('message_id', 'kind', 'key'),
          'in',
          eb
            .selectFrom('tracking_firsts as old')
            .select(['old.message_id', 'old.kind', 'old.key'])
            .where('old.created_at', '<', before.toISOString())
            .limit(limit)
            .$asTuple('message_id', 'kind', 'key'),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
