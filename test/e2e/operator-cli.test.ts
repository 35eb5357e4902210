import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { assertBuilt, CLI, runCli, startCliServer, type ServerProcess } from '../helpers/cli.js';

/** mailingcore campaigns … / contacts import: the operator commands over real HTTP (SQLite). */
describe('mailingcore operator commands', { timeout: 120_000 }, () => {
  let testDb: TestDatabase;
  let dataDir: string;
  let server: ServerProcess;
  let env: Record<string, string>;
  let apiEnv: Record<string, string>;
  let headers: Record<string, string>;
  let versionId: string;

  const api = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${server.url}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    return (await res.json()) as Record<string, any>;
  };
  const cli = (args: string[]) => runCli(args, apiEnv);

  beforeAll(async () => {
    assertBuilt();
    testDb = await createTestDatabase('sqlite');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailingcore-op-'));
    env = { DATABASE_URL: `sqlite:${(testDb.config as { file: string }).file}`, DATA_DIR: dataDir, LOG_LEVEL: 'warn', MAILINGCORE_SECRET: 's'.repeat(40) };
    server = await startCliServer('start', env);
    const created = runCli(['tenants', 'create', '--name', 'Ops', '--json'], env);
    expect(created.status, created.stderr).toBe(0);
    const { tenant, apiKey } = JSON.parse(created.stdout) as { tenant: { id: string }; apiKey: string };
    apiEnv = { MAILINGCORE_URL: server.url, MAILINGCORE_API_KEY: apiKey, MAILINGCORE_TENANT_ID: tenant.id };
    headers = { authorization: `Bearer ${apiKey}`, 'x-tenant-id': tenant.id, 'content-type': 'application/json' };
    const template = await api('POST', '/templates', { name: 'T', locale: 'en', subject: 'Hi {{ first_name }}', htmlBody: '<p>Hi</p><a href="{{ unsubscribeUrl }}">u</a>' });
    versionId = template.versions[0].id;
    await api('POST', `/templates/${template.id}/versions/${versionId}/publish`);
  });

  afterAll(async () => {
    await server?.stop();
    await testDb?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('imports CSV and NDJSON files and prints the summary', () => {
    const csv = path.join(dataDir, 'contacts.csv');
    fs.writeFileSync(csv, 'email,locale,optIn,first_name\n' + Array.from({ length: 20 }, (_, i) => `c${i}@example.com,en,true,C${i}\n`).join('') + 'not-an-email,en,true,X\n');
    const result = cli(['contacts', 'import', csv]);
    expect(result.status, result.stderr).toBe(3); // partial failure: one bad row
    expect(result.stdout).toContain('processed 21: 20 created, 0 updated, 1 failed');
    expect(result.stdout).toMatch(/line \d+:/);

    const ndjson = path.join(dataDir, 'more.jsonl');
    fs.writeFileSync(ndjson, '{"email":"c0@example.com","locale":"en","optIn":true}\n{"email":"n1@example.com","locale":"en","optIn":true}\n');
    const json = cli(['contacts', 'import', ndjson, '--json']);
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ processed: 2, created: 1, updated: 1, failed: 0 });

    const bad = cli(['contacts', 'import', path.join(dataDir, 'x.txt')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^mailingcore: UNSUPPORTED_FILE: /);
  });

  it('emails send: a template with --var (JSON when it parses), and raw content from a file; emails logs lists them', async () => {
    const sent = cli(['emails', 'send', '--to', 'c1@example.com', '--template', versionId, '--var', 'first_name=Zoë', '--var', 'count=3', '--tag', 'welcome', '--sync', '--json']);
    expect(sent.status, sent.stderr).toBe(0);
    const email = JSON.parse(sent.stdout) as { id: string; status: string };
    expect(email.status).toBe('SENT');
    const raw = await fetch(`${server.url}/emails/${email.id}/raw`, { headers }).then((r) => r.text());
    expect(raw).toMatch(/Subject: (Hi Zo=C3=AB|=\?UTF-8\?[QB]\?)/);

    const html = path.join(dataDir, 'receipt.html');
    fs.writeFileSync(html, '<p>Receipt {{ not liquid }}</p>');
    const rawSend = cli(['emails', 'send', '--to', 'buyer@example.com', '--subject', 'Receipt', '--html', `@${html}`]);
    expect(rawSend.status, rawSend.stderr).toBe(0);
    expect(rawSend.stdout).toMatch(/^email [0-9a-f-]{36} is QUEUED$/m);

    const logs = cli(['emails', 'logs', '--tag', 'welcome']);
    expect(logs.status, logs.stderr).toBe(0);
    expect(logs.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+CREATED\s+TO\s+SUBJECT$/);
    expect(logs.stdout).toContain(email.id);
    expect(logs.stdout).not.toContain('buyer@example.com');

    const bad = cli(['emails', 'send', '--to', 'c1@example.com', '--var', 'novalue']);
    expect(bad.status).toBe(2);
  });

  it('lists, shows, sends and watches a campaign to SENT (non-TTY: one line per update)', async () => {
    const campaign = await api('POST', '/campaigns', { name: 'Ops launch', templateVersionId: versionId, audienceFilter: { optIn: true } });

    const list = cli(['campaigns', 'list']);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+SENT\s+FAILED\s+CREATED\s+NAME$/);
    expect(list.stdout).toContain(campaign.id);
    const drafts = JSON.parse(cli(['campaigns', 'list', '--status', 'DRAFT', '--json']).stdout);
    expect(drafts.data.map((c: { id: string }) => c.id)).toContain(campaign.id);
    expect(JSON.parse(cli(['campaigns', 'list', '--status', 'SENT', '--json']).stdout).data).toEqual([]);
    // Status options in any case.
    expect(JSON.parse(cli(['campaigns', 'list', '--status', 'draft', '--json']).stdout).data.map((c: { id: string }) => c.id)).toContain(campaign.id);
    expect(JSON.parse(cli(['campaigns', 'list', '--status', 'Sent', '--json']).stdout).data).toEqual([]);
    const badStatus = cli(['campaigns', 'list', '--status', 'done']);
    expect(badStatus.status).toBe(2);
    expect(badStatus.stderr).toContain('must be one of DRAFT, SCHEDULED, SENDING, PAUSED, SENT, CANCELLED (any case)');

    const show = cli(['campaigns', 'show', campaign.id]);
    expect(show.stdout).toMatch(/status\s+DRAFT/);
    expect(JSON.parse(cli(['campaigns', 'show', campaign.id, '--json']).stdout)).toMatchObject({ id: campaign.id, status: 'DRAFT' });

    const send = cli(['campaigns', 'send', campaign.id]);
    expect(send.status, send.stderr).toBe(0);
    expect(send.stdout.trim()).toBe(`campaign ${campaign.id} is SENDING`);

    const watch = cli(['campaigns', 'watch', campaign.id, '--interval', '100']);
    expect(watch.status, watch.stderr).toBe(0);
    const lines = watch.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^(SENDING|SENT) sent \d+\/\d+ queued \d+ failed \d+ rate [\d.]+\/s eta \S+$/);
    expect(lines.at(-2)).toMatch(/^SENT sent 21\/21 queued 0 failed 0/);
    expect(lines.at(-1)).toBe(`campaign ${campaign.id} SENT: 21 sent, 0 failed, 0 cancelled`);
    expect(watch.stdout).not.toContain('\x1b['); // no terminal escapes when not a TTY

    // Sending again: the API's 409, as one line.
    const again = cli(['campaigns', 'send', campaign.id]);
    expect(again.status).toBe(1);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(/^mailingcore: INVALID_STATE: /);
  });

  it('cancels a campaign, and watch stops at CANCELLED', async () => {
    {
      const campaign = await api('POST', '/campaigns', { name: 'Never mind', templateVersionId: versionId });
      const cancel = cli(['campaigns', 'cancel', campaign.id, '--json']);
      expect(cancel.status, cancel.stderr).toBe(0);
      expect(JSON.parse(cancel.stdout)).toMatchObject({ id: campaign.id, status: 'CANCELLED' });
      const watch = cli(['campaigns', 'watch', campaign.id]);
      expect(watch.status).toBe(0);
      expect(watch.stdout).toContain('CANCELLED');
    }
  });

  it('refuses a bad key and an unknown campaign with one line and exit code 1', () => {
    const badKey = runCli(['campaigns', 'list'], { ...apiEnv, MAILINGCORE_API_KEY: 'mc_live_wrongwrongwrongwrongwrongwrong' });
    expect(badKey.status).toBe(1);
    expect(badKey.stdout).toBe('');
    expect(badKey.stderr.trim().split('\n')).toHaveLength(1);
    expect(badKey.stderr).toMatch(/^mailingcore: UNAUTHORIZED: /);

    const flags = runCli(['campaigns', 'show', 'nope', '--url', server.url, '--key', apiEnv.MAILINGCORE_API_KEY!, '--tenant', apiEnv.MAILINGCORE_TENANT_ID!], {
      MAILINGCORE_API_KEY: '',
      MAILINGCORE_TENANT_ID: '',
    });
    expect(flags.status).toBe(1);
    expect(flags.stderr).toMatch(/^mailingcore: NOT_FOUND: /);

    const down = runCli(['campaigns', 'list'], { ...apiEnv, MAILINGCORE_URL: 'http://127.0.0.1:9' });
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/^mailingcore: UNREACHABLE: /);
  });

  it("prints the API's details under the error line", () => {
    const limit = cli(['campaigns', 'list', '--limit', '500']);
    expect(limit.status).toBe(1);
    expect(limit.stderr.trim().split('\n')).toEqual(['mailingcore: VALIDATION_ERROR: Invalid request querystring', '  limit: must be <= 100']);

    const csv = path.join(dataDir, 'no-email.csv');
    fs.writeFileSync(csv, 'name,locale\nAna,es\n');
    const noEmail = cli(['contacts', 'import', csv]);
    expect(noEmail.status).toBe(1);
    const [first, ...details] = noEmail.stderr.trim().split('\n');
    expect(first).toMatch(/^mailingcore: VALIDATION_ERROR: /);
    expect(details.length).toBeGreaterThan(0);
    expect(details.join('\n')).toMatch(/^ {2}\S+: .*email/m);
  });

  it('exit codes: 2 for usage (missing key, bad option), 1 for API errors', () => {
    expect(runCli(['campaigns', 'list'], { ...apiEnv, MAILINGCORE_API_KEY: '' }).status).toBe(2);
    expect(cli(['campaigns', 'list', '--page', 'zero']).status).toBe(2);
    expect(cli(['campaigns', 'show', 'nope']).status).toBe(1);
  });

  it('watch on a DRAFT or SCHEDULED campaign says so and exits 1 (--wait waits for the schedule)', async () => {
    const draft = await api('POST', '/campaigns', { name: 'Still a draft', templateVersionId: versionId });
    const watchDraft = cli(['campaigns', 'watch', draft.id, '--interval', '100']);
    expect(watchDraft.status).toBe(1);
    expect(watchDraft.stderr.trim()).toBe(
      `mailingcore: campaign ${draft.id} is DRAFT: it has not been sent, so there is nothing to watch (send it with "mailingcore campaigns send ${draft.id}")`,
    );

    const scheduled = await api('POST', '/campaigns', { name: 'Later', templateVersionId: versionId });
    const at = new Date(Date.now() + 8000).toISOString(); // each CLI run takes a second or two here
    await api('POST', `/campaigns/${scheduled.id}/schedule`, { scheduledAt: at });
    const noWait = cli(['campaigns', 'watch', scheduled.id]);
    expect(noWait.status).toBe(1);
    expect(noWait.stderr).toContain(`is SCHEDULED for `);
    expect(noWait.stderr).toContain('pass --wait to wait for it to start');

    const waited = cli(['campaigns', 'watch', scheduled.id, '--wait', '--interval', '200']);
    expect(waited.status, waited.stderr).toBe(0);
    expect(waited.stderr).toContain('waiting for it to start');
    expect(waited.stdout.trim().split('\n').at(-1)).toMatch(new RegExp(`^campaign ${scheduled.id} SENT: `));
  });

  it('send lists the locales without a template variant and refuses without --yes when there is no terminal (exit 2)', async () => {
    await api('POST', '/contacts/bulk', {
      contacts: [
        { email: 'fr1@example.com', locale: 'fr', optIn: true, attributes: { batch: 'coverage' } },
        { email: 'fr2@example.com', locale: 'fr-CA', optIn: true, attributes: { batch: 'coverage' } },
        { email: 'de1@example.com', locale: 'de', optIn: true, attributes: { batch: 'coverage' } },
        { email: 'en1@example.com', locale: 'en', optIn: true, attributes: { batch: 'coverage' } },
        { email: 'none@example.com', optIn: true, attributes: { batch: 'coverage' } },
      ],
    });
    const campaign = await api('POST', '/campaigns', {
      name: 'Uncovered',
      templateVersionId: versionId,
      audienceFilter: { optIn: true, attributes: { batch: 'coverage' } },
    });
    const refused = cli(['campaigns', 'send', campaign.id]);
    expect(refused.status).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toEqual([
      'warning: 3 locales of the audience (3 contacts) have no template variant and will get the base version:',
      '  de     1 contact',
      '  fr     1 contact',
      '  fr-CA  1 contact',
      `mailingcore: not sending campaign ${campaign.id}: pass --yes to send it anyway (no terminal to ask on)`,
    ]);
    expect((await api('GET', `/campaigns/${campaign.id}`)).status).toBe('DRAFT');

    const sent = cli(['campaigns', 'send', campaign.id, '--yes']);
    expect(sent.status, sent.stderr).toBe(0);
    expect(sent.stderr).toContain('warning: 3 locales');
    expect(sent.stdout.trim()).toBe(`campaign ${campaign.id} is SENDING`);
  });

  it('send: a failed pre-send check is the API error on one line; --force sends anyway', async () => {
    const template = await api('POST', '/templates', { name: 'No link', locale: 'en', subject: 'Hi', htmlBody: '<p>Hi, no way out</p>' });
    const noLink = template.versions[0].id as string;
    await api('POST', `/templates/${template.id}/versions/${noLink}/publish`);
    const campaign = await api('POST', '/campaigns', { name: 'No link', templateVersionId: noLink, audienceFilter: { attributes: { first_name: 'C1' } } });
    const refused = cli(['campaigns', 'send', campaign.id, '--yes']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^mailingcore: PREFLIGHT_FAILED: /m);
    expect((await api('GET', `/campaigns/${campaign.id}`)).status).toBe('DRAFT');

    const forced = cli(['campaigns', 'send', campaign.id, '--yes', '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stdout.trim()).toBe(`campaign ${campaign.id} is SENDING`);
  });

  it('watch --json prints the final campaign as JSON after the progress lines', async () => {
    const campaign = await api('POST', '/campaigns', { name: 'Json watch', templateVersionId: versionId });
    await api('POST', `/campaigns/${campaign.id}/send`);
    const child = spawn(process.execPath, [CLI, 'campaigns', 'watch', campaign.id, '--interval', '100', '--json'], {
      env: { ...process.env, ...apiEnv },
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    const json = stdout.slice(stdout.indexOf('{'));
    expect(JSON.parse(json)).toMatchObject({ id: campaign.id, status: 'SENT' });
  });
});
