/**
 * The whole campaign flow through the SDK, against a running server:
 * contacts (bulk) → template with an English and a Spanish version, both
 * published → preview → campaign → locale coverage → send → wait until
 * SENT → list the messages → usage.
 *
 * It only ever mails the contacts it creates: they carry an attribute
 * `sdk_example` with a value unique to the run, and the campaign's audience
 * filter asks for that value — so on a real tenant (with SMTP set) it never
 * reaches anyone else. Use addresses you own (`example.com` ones go nowhere
 * when emails are captured, the default without SMTP_URL).
 *
 *   MAILINGCORE_URL=http://127.0.0.1:3000 MAILINGCORE_API_KEY=mc_live_… MAILINGCORE_TENANT_ID=… \
 *     npx tsx sdk/examples/campaign-flow.ts
 */
import { pathToFileURL } from 'node:url';
import { createClient, type Campaign, type CampaignMessage, type MailingCoreClient } from '../src/index.js';

export interface FlowResult {
  campaign: Campaign;
  messages: CampaignMessage[];
}

export async function runCampaignFlow(client: MailingCoreClient, log: (line: string) => void = console.log): Promise<FlowResult> {
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const tag = { sdk_example: run };
  const imported = await client.contacts.bulk([
    { email: `ana+${run}@example.com`, locale: 'es', optIn: true, attributes: { first_name: 'Ana', ...tag } },
    { email: `bob+${run}@example.com`, locale: 'en', optIn: true, attributes: { first_name: 'Bob', ...tag } },
    { email: `carla+${run}@example.com`, locale: 'es-MX', optIn: true, attributes: { first_name: 'Carla', ...tag } },
  ]);
  log(`contacts: ${imported.created} created, ${imported.updated} updated, ${imported.failed} failed (tagged sdk_example=${run})`);

  const template = await client.templates.create({
    name: `Newsletter ${run}`,
    locale: 'en',
    subject: 'News for {{ first_name }}',
    htmlBody: '<p>Hello {{ first_name }}!</p><p><a href="{{ unsubscribeUrl }}">Unsubscribe</a></p>',
  });
  const en = template.versions[0]!.id;
  const es = await client.templates.createVersion(template.id, {
    locale: 'es',
    localeGroupId: en,
    subject: 'Noticias para {{ first_name }}',
    htmlBody: '<p>¡Hola {{ first_name }}!</p><p><a href="{{ unsubscribeUrl }}">Darse de baja</a></p>',
  });
  for (const versionId of [en, es.id]) await client.templates.publish(template.id, versionId);
  log(`template ${template.id}: en ${en}, es ${es.id}, published`);
  const preview = await client.templates.preview(template.id, es.id, { data: { first_name: 'Ana' } });
  log(`preview (es): ${preview.subject}`);

  // Only this run's contacts: the audience filter names the tag.
  const created = await client.campaigns.create({
    name: `June update ${run}`,
    templateVersionId: en,
    audienceFilter: { optIn: true, attributes: tag },
  });
  log(`campaign ${created.id}: ${created.status}`);
  const uncovered = await client.campaigns.uncoveredLocales(created.id);
  log(uncovered.length ? `locales without a variant: ${uncovered.map((r) => r.locale).join(', ')}` : 'every locale has a variant');

  await client.campaigns.send(created.id);
  const campaign = await client.campaigns.waitUntilDone(created.id, {
    intervalMs: 250,
    timeoutMs: 60_000,
    onProgress: (c) => log(`  ${c.status} sent ${c.counters.sent}/${c.counters.total}, failed ${c.counters.failed}`),
  });
  const messages = (await client.campaigns.messages(created.id, { limit: 500 })).data;
  for (const m of messages) log(`  #${m.id} ${m.email} ${m.locale} ${m.status}`);
  const usage = await client.usage.get();
  log(`usage ${usage.month}: ${usage.used}/${usage.limit}`);
  return { campaign, messages };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`set ${name}`);
    return value;
  };
  const client = createClient({
    baseUrl: process.env.MAILINGCORE_URL ?? 'http://127.0.0.1:3000',
    apiKey: env('MAILINGCORE_API_KEY'),
    tenantId: env('MAILINGCORE_TENANT_ID'),
  });
  runCampaignFlow(client).then(
    ({ campaign }) => console.log(`done: ${campaign.status}`),
    (error: unknown) => {
      console.error(`campaign-flow: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
