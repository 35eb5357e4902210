import { sql, type Kysely } from 'kysely';
import { columnTypes, type DialectMigration, type MigrationDialect } from './helpers.js';

/**
 * A version that was ever published is frozen (never edited again):
 * `first_published_at` remembers that it was, whatever unpublish does to
 * `status` and `published_at`; `text_derived` says its text part was derived
 * from the HTML at publish (so a new draft copied from it derives it again
 * instead of keeping text that no longer matches). Versions published today
 * are frozen from their publication.
 */
export function frozenTemplateVersions(dialect: MigrationDialect): DialectMigration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('template_versions').addColumn('first_published_at', t.timestamp).execute();
      await db.schema.alterTable('template_versions').addColumn('text_derived', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await sql`update template_versions set first_published_at = published_at where status = 'PUBLISHED'`.execute(db);
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('template_versions').dropColumn('text_derived').execute();
      await db.schema.alterTable('template_versions').dropColumn('first_published_at').execute();
    },
  };
}
