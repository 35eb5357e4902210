import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import { atomically, type Dialect } from '../db/database.js';
import type { VersionStatus } from '../db/enums.js';
import type { DB, TemplatesTable, TemplateVersionsTable } from '../db/schema.js';
import { offsetOf, type PageRequest } from '../shared/pagination.js';

export type TemplateRow = Selectable<TemplatesTable>;
export type VersionRow = Selectable<TemplateVersionsTable>;
/** A version as written: variables as JSON text. */
export type NewVersionRow = Omit<VersionRow, 'variables'> & { variables: string | null };
export type VersionPatch = Omit<Updateable<TemplateVersionsTable>, 'id' | 'tenant_id' | 'template_id' | 'created_at'>;

/** The group a version belongs to: its localeGroupId, or its own id when it anchors one. */
const groupKey = sql<string>`COALESCE(locale_group_id, id)`;

/** The only writer of templates and template_versions. Bound to a transaction with `in(trx)`. */
export class TemplateRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  in(trx: Kysely<DB>): TemplateRepository {
    return new TemplateRepository(trx, this.dialect);
  }

  /** Inserts a template with its first version, atomically. */
  async insertWithVersion(template: TemplateRow, version: NewVersionRow): Promise<void> {
    await atomically(this.db, async (trx) => {
      await trx.insertInto('templates').values(template).execute();
      await trx.insertInto('template_versions').values(version).execute();
    });
  }

  async insertVersion(version: NewVersionRow): Promise<void> {
    await atomically(this.db, async (trx) => {
      await trx.insertInto('template_versions').values(version).execute();
      await trx
        .updateTable('templates')
        .set({ updated_at: version.created_at })
        .where('tenant_id', '=', version.tenant_id)
        .where('id', '=', version.template_id)
        .execute();
    });
  }

  getTemplate(tenantId: string, id: string): Promise<TemplateRow | undefined> {
    return this.db
      .selectFrom('templates')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** Newest first (UUIDv7 ids sort by creation time). */
  async listTemplates(tenantId: string, page: PageRequest): Promise<{ rows: TemplateRow[]; total: number }> {
    const query = this.db.selectFrom('templates').where('tenant_id', '=', tenantId);
    const [rows, count] = await Promise.all([
      query.selectAll().orderBy('id', 'desc').limit(page.limit).offset(offsetOf(page)).execute(),
      query.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.total) };
  }

  /** Oldest first: the order they were written. */
  async listVersions(
    tenantId: string,
    templateId: string,
    page?: PageRequest,
  ): Promise<{ rows: VersionRow[]; total: number }> {
    const query = this.db
      .selectFrom('template_versions')
      .where('tenant_id', '=', tenantId)
      .where('template_id', '=', templateId);
    let rowsQuery = query.selectAll().orderBy('id', 'asc');
    if (page) rowsQuery = rowsQuery.limit(page.limit).offset(offsetOf(page));
    const [rows, count] = await Promise.all([
      rowsQuery.execute(),
      query.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.total) };
  }

  /** A version of one template (for the API, where the path names both). */
  getTemplateVersion(tenantId: string, templateId: string, versionId: string): Promise<VersionRow | undefined> {
    return this.db
      .selectFrom('template_versions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('template_id', '=', templateId)
      .where('id', '=', versionId)
      .executeTakeFirst();
  }

  /** A version by id alone, for the send pipeline. */
  getVersion(tenantId: string, versionId: string): Promise<VersionRow | undefined> {
    return this.db
      .selectFrom('template_versions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', versionId)
      .executeTakeFirst();
  }

  /**
   * The published versions of the locale group the given version belongs to
   * (itself included when published): the candidates of locale routing.
   */
  async publishedVariants(tenantId: string, baseVersionId: string): Promise<VersionRow[]> {
    const base = await this.getVersion(tenantId, baseVersionId);
    if (!base) return [];
    const group = base.locale_group_id ?? base.id;
    return this.db
      .selectFrom('template_versions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('id', '=', group), eb('locale_group_id', '=', group)]))
      .where('status', '=', 'PUBLISHED')
      .orderBy('id', 'asc')
      .execute();
  }

  /** How many other versions name this one as their group anchor. */
  async countGroupMembers(tenantId: string, anchorId: string): Promise<number> {
    const row = await this.db
      .selectFrom('template_versions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('locale_group_id', '=', anchorId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Another PUBLISHED version of the same group with the same locale, if any. */
  findPublishedTwin(
    tenantId: string,
    version: { id: string; locale: string | null; locale_group_id: string | null },
  ): Promise<{ id: string } | undefined> {
    if (version.locale === null) return Promise.resolve(undefined);
    const group = version.locale_group_id ?? version.id;
    return this.db
      .selectFrom('template_versions')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where(groupKey, '=', group)
      .where('locale', '=', version.locale)
      .where('status', '=', 'PUBLISHED')
      .where('id', '<>', version.id)
      .executeTakeFirst();
  }

  /**
   * The one way a version changes: a conditional update applied only while
   * the version is in `fromStatus`. False means it was not (or is gone).
   */
  async updateIfStatus(
    tenantId: string,
    templateId: string,
    id: string,
    fromStatus: VersionStatus,
    patch: VersionPatch,
    guard: { neverPublished?: boolean } = {},
  ): Promise<boolean> {
    return atomically(this.db, async (trx) => {
      let update = trx
        .updateTable('template_versions')
        .set(patch)
        .where('tenant_id', '=', tenantId)
        .where('template_id', '=', templateId)
        .where('id', '=', id)
        .where('status', '=', fromStatus);
      if (guard.neverPublished) update = update.where('first_published_at', 'is', null);
      const result = await update.executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      if (patch.updated_at) {
        await trx
          .updateTable('templates')
          .set({ updated_at: patch.updated_at })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', templateId)
          .execute();
      }
      return true;
    });
  }

  /**
   * Inside a transaction, before a campaign starts using a version
   * (schedule, send): PostgreSQL locks its locale group's anchor and the
   * version itself `FOR SHARE`, so an unpublish of any member of the group
   * (which locks the anchor `FOR UPDATE`) waits for this transaction, or
   * this one for it. SQLite has one writer at a time: nothing to lock.
   */
  async lockGroupForUse(tenantId: string, versionId: string): Promise<void> {
    if (this.dialect !== 'postgres') return;
    const version = await this.getVersion(tenantId, versionId);
    if (!version) return;
    // Anchor first, then the member: the order unpublish takes them in too.
    for (const id of new Set([version.locale_group_id ?? version.id, version.id])) {
      await this.db.selectFrom('template_versions').select('id').where('tenant_id', '=', tenantId).where('id', '=', id).forShare().execute();
    }
  }

  /** Inside an unpublish transaction: PostgreSQL locks the version's group anchor `FOR UPDATE` (see lockGroupForUse). */
  async lockGroupForChange(tenantId: string, versionId: string): Promise<void> {
    if (this.dialect !== 'postgres') return;
    const version = await this.getVersion(tenantId, versionId);
    if (!version) return;
    await this.db
      .selectFrom('template_versions')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', version.locale_group_id ?? version.id)
      .forUpdate()
      .execute();
  }

  /**
   * A SCHEDULED or SENDING campaign of the tenant whose template is in the
   * same locale group as this version: its emails may still be rendered from
   * any variant of the group.
   */
  async activeCampaignUsingGroupOf(tenantId: string, versionId: string): Promise<string | undefined> {
    const version = await this.getVersion(tenantId, versionId);
    if (!version) return undefined;
    const group = version.locale_group_id ?? version.id;
    const row = await this.db
      .selectFrom('campaigns')
      .innerJoin('template_versions as v', (join) =>
        join.onRef('v.id', '=', 'campaigns.template_version_id').onRef('v.tenant_id', '=', 'campaigns.tenant_id'),
      )
      .select('campaigns.id')
      .where('campaigns.tenant_id', '=', tenantId)
      .where('campaigns.status', 'in', ['SCHEDULED', 'SENDING', 'PAUSED'])
      .where((eb) => eb.or([eb('v.id', '=', group), eb('v.locale_group_id', '=', group)]))
      .limit(1)
      .executeTakeFirst();
    return row?.id;
  }
}
