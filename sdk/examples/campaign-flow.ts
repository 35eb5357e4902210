/**
 * The whole campaign flow through the SDK, against a running server:
 * contacts (bulk) → template with an English and a Spanish version, both
 * published → campaign → send → wait until SENT → list the messages.
 *
 *   MAILINGCORE_URL=http://127.0.0.1:3000 MAILINGCORE_API_KEY=mc_live_… MAILINGCORE_TENANT_ID=… \
 *     npx tsx sdk/examples/campaign-flow.ts
 */
import { pathToFileURL } from 'node:url';
import { createClient, unwrap, type Campaign, type CampaignMessage, type MailingCoreClient } from '../src/index.js';

export interface FlowResult {
  campaign: Campaign;
  messages: CampaignMessage[];
}

export async function runCampaignFlow(client: MailingCoreClient, log: (line: string) => void = console.log): Promise<FlowResult> {
  const suffix = Date.now().toString(36);
  const imported = await client.contacts.bulk([
    { email: `ana+${suffix}@example.com`, locale: 'es', optIn: true, attributes: { first_name: 'Ana' } },
    { email: `bob+${suffix}@example.com`, locale: 'en', optIn: true, attributes: { first_name: 'Bob' } },
    { email: `carla+${suffix}@example.com`, locale: 'es-MX', optIn: true, attributes: { first_name: 'Carla' } },
  ]);
  log(`contacts: ${JSON.stringify(imported)}`);

  const template = await unwrap(
    client.POST('/templates', {
      body: {
        name: `Newsletter ${suffix}`,
        locale: 'en',
        subject: 'News for {{ first_name }}',
        htmlBody: '<p>Hello {{ first_name }}!</p><p><a href="{{ unsubscribeUrl }}">Unsubscribe</a></p>',
      },
    }),
  );
  const en = template.versions[0]!.id;
  const es = await unwrap(
    client.POST('/templates/{id}/versions', {
      params: { path: { id: template.id } },
      body: {
        locale: 'es',
        localeGroupId: en,
        subject: 'Noticias para {{ first_name }}',
        htmlBody: '<p>¡Hola {{ first_name }}!</p><p><a href="{{ unsubscribeUrl }}">Darse de baja</a></p>',
      },
    }),
  );
  for (const versionId of [en, es.id]) {
    await unwrap(client.POST('/templates/{id}/versions/{versionId}/publish', { params: { path: { id: template.id, versionId } } }));
  }
  log(`template ${template.id}: en ${en}, es ${es.id}, published`);

  const created = await client.campaigns.create({
    name: `June update ${suffix}`,
    templateVersionId: en,
    audienceFilter: { optIn: true },
  });
  log(`campaign ${created.id}: ${created.status}`);

  await client.campaigns.send(created.id);
  const campaign = await client.campaigns.waitUntilDone(created.id, {
    intervalMs: 250,
    timeoutMs: 60_000,
    onProgress: (c) => log(`  ${c.status} sent ${c.counters.sent}/${c.counters.total}, failed ${c.counters.failed}`),
  });
  const messages = (await client.campaigns.messages(created.id, { limit: 500 })).data;
  for (const m of messages) log(`  #${m.id} ${m.email} ${m.locale} ${m.status}`);
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
