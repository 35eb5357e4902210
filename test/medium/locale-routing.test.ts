import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { localeRouting, resolveVariant, type LocaleVariant } from '../../src/templates/locale-routing.js';
import { createTestDatabase, DIALECTS } from '../helpers/databases.js';
import { factories, repositoriesOf } from '../helpers/factories.js';

/**
 * Locale routing lives in one module in two forms: resolveVariant (one
 * contact, TypeScript) and routingCase (the fan-out's SQL CASE). For every
 * contact locale below — odd casing included, written straight to the table
 * as an older import or another tool might have stored it — the SQL form
 * must choose exactly what the TypeScript form chooses, on both engines.
 */
const CONTACT_LOCALES: (string | null)[] = [
  null, 'en', 'EN', 'en-GB', 'en-gb', 'es', 'ES', 'es-MX', 'es-mx', 'ES-MX', 'es-AR', 'es-419', 'fr', 'fr-CA', 'pt', 'pt-BR',
  'zh-Hant', 'zh-Hant-TW', 'zh', 'de', 'ca-ES-valencia', 'e', 'ess', 'es-',
];

/** Groups of published variants (the first is the base), and tenant fallbacks, to route against. */
const SCENARIOS: { name: string; variants: (string | null)[]; fallback: string | null }[] = [
  { name: 'base en with es and es-MX', variants: ['en', 'es', 'es-MX'], fallback: null },
  { name: 'base en with es and es-MX, fallback es', variants: ['en', 'es', 'es-MX'], fallback: 'es' },
  { name: 'base without a locale, fr and pt-BR', variants: [null, 'fr', 'pt-BR'], fallback: null },
  { name: 'regional variants only, fallback fr-CA', variants: ['en-GB', 'es-MX', 'fr-CA', 'zh-Hant'], fallback: 'fr-CA' },
  { name: 'base only', variants: ['de'], fallback: 'es' },
  { name: 'fallback names a language with no variant', variants: ['en', 'es'], fallback: 'it' },
];

describe.each(DIALECTS)('locale routing: SQL and TypeScript agree (%s)', (dialect) => {
  let database: Database;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const test = await createTestDatabase(dialect);
    drop = test.drop;
    database = openDatabase(test.config, { poolSize: 2 });
    await migrateToLatest(database);
  });
  afterAll(async () => {
    await database.close();
    await drop();
  });

  it.each(SCENARIOS)('$name', async ({ variants: locales, fallback }) => {
    const make = factories(database);
    const repos = repositoriesOf(database);
    const tenantId = await make.tenant({ fallbackLocale: fallback });
    const contacts = [];
    for (const locale of CONTACT_LOCALES) contacts.push({ ...(await make.contact(tenantId, { locale })), locale });
    const { versionIds } = await make.template(tenantId, locales.map((locale) => ({ locale })));
    const baseVersionId = versionIds[0]!;
    const variants: LocaleVariant[] = await repos.templates.publishedVariants(tenantId, baseVersionId);
    expect(variants).toHaveLength(locales.length);
    const campaignId = await make.campaign(tenantId, { status: 'SENDING', template_version_id: baseVersionId });

    const queued = await repos.messages.queueAudience({
      tenantId,
      campaignId,
      audience: repos.audience.reached(tenantId, null),
      routing: localeRouting(variants, fallback, baseVersionId),
      at: new Date().toISOString(),
      limit: 1000,
    });
    expect(queued).toBe(contacts.length);

    const rows = await database.db
      .selectFrom('messages')
      .select(['contact_id', 'locale', 'template_version_id'])
      .where('campaign_id', '=', campaignId)
      .execute();
    const byContact = new Map(rows.map((r) => [r.contact_id, { versionId: r.template_version_id, locale: r.locale }]));
    for (const contact of contacts) {
      const expected = resolveVariant(contact.locale, variants, fallback, baseVersionId);
      expect(byContact.get(contact.id), `contact locale ${String(contact.locale)}`).toEqual(expected);
    }
  });
});
