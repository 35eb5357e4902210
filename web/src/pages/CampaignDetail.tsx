import { useEffect, useState, type FormEvent } from 'react';
import { api, request, type Campaign, type Schemas } from '../api';
import { ErrorMessage, Loading, PageTitle, ProgressBar, useLoad } from '../components';
import { useI18n, type MessageKey } from '../i18n';
import { Link } from '../router';
import { canSend, useSession } from '../session';
import { CampaignTabs, canEdit, ConfirmButton, FieldError, fieldError, zonedToUtc } from './campaign-common';

type Coverage = Schemas['/campaigns/{id}/locale-coverage']['get']['responses'][200]['content']['application/json'];
type Preflight = Schemas['/campaigns/{id}/preflight']['get']['responses'][200]['content']['application/json'];
type TestResults = Schemas['/campaigns/{id}/test']['post']['responses'][200]['content']['application/json']['results'];

/** Statuses whose counters may still change: the page follows them live (GET /campaigns/{id}/progress, SSE). */
const LIVE = new Set<Campaign['status']>(['SCHEDULED', 'SENDING', 'PAUSED']);

/**
 * A campaign: status, live counters, locale coverage, the preflight checklist;
 * for editors and up Edit (drafts) and test send; for owners and admins
 * schedule, send (with the recipient count and quota impact), pause/resume, cancel.
 */
export default function CampaignDetail({ id }: { id: string }) {
  const { t, number, date } = useI18n();
  const { role } = useSession();
  const { data, error, reload } = useLoad(
    () =>
      Promise.all([
        request(() => api.GET('/campaigns/{id}', { params: { path: { id } } })),
        request(() => api.GET('/campaigns/{id}/locale-coverage', { params: { path: { id } } })),
        request(() => api.GET('/campaigns/{id}/preflight', { params: { path: { id } } })),
      ]),
    [id],
  );
  const [campaign, setCampaign] = useState<Campaign | undefined>(undefined);
  const [actionError, setActionError] = useState<unknown>(undefined);
  const [notice, setNotice] = useState<MessageKey | undefined>(undefined);
  useEffect(() => {
    if (data) setCampaign(data[0]);
  }, [data]);
  const status = campaign?.status;
  const liveError = useProgress(id, status !== undefined && LIVE.has(status), setCampaign, reload);

  if (error) {
    return (
      <section>
        <Link to="/app/campaigns">{t('campaign.back')}</Link>
        <ErrorMessage error={error} onRetry={reload} />
      </section>
    );
  }
  if (!data || !campaign) return <Loading />;
  const [, coverage, preflight] = data;
  const c = campaign.counters;
  const done = c.sent + c.failed + c.cancelled;
  const skipped = c.skipped.quota + c.skipped.suppressed + c.skipped.optedOut + c.skipped.erased;
  const uncovered = coverage.filter((row) => !row.hasTemplate);
  // Contacts the campaign would reach now: the send's own audience query (locale-coverage groups it by locale).
  const reach = coverage.reduce((sum, row) => sum + row.count, 0);
  const preparing = campaign.status === 'DRAFT' || campaign.status === 'SCHEDULED';
  const blocked = preparing && !preflight.ok;
  const sender = canSend(role);

  /** Runs a state change; its answer (the campaign) replaces the one shown. */
  const act = (call: () => Promise<Campaign>, done: MessageKey) => async () => {
    setActionError(undefined);
    setNotice(undefined);
    try {
      setCampaign(await call());
      setNotice(done);
      reload();
    } catch (err) {
      setActionError(err);
      throw err;
    }
  };
  const path = { params: { path: { id } } };
  const when = (iso: string | null) => (iso ? date(iso) : t('campaign.none'));

  return (
    <section>
      <p>
        <Link to="/app/campaigns">{t('campaign.back')}</Link>
      </p>
      <PageTitle>{campaign.name}</PageTitle>
      <CampaignTabs campaign={campaign} />
      <dl className="facts">
        <div>
          <dt>{t('campaign.status')}</dt>
          <dd>
            <span className={`badge badge-${campaign.status.toLowerCase()}`} data-testid="campaign-status">
              {t(`status.${campaign.status}`)}
            </span>
            {campaign.pausedReason && <span className="muted small"> {t('campaigns.x.pausedReason', { reason: campaign.pausedReason })}</span>}
          </dd>
        </div>
        <div>
          <dt>{t('campaign.subject')}</dt>
          <dd>{campaign.subject ?? t('campaign.noSubject')}</dd>
        </div>
        <div>
          <dt>{t('campaigns.x.timezone')}</dt>
          <dd>{campaign.timezone ?? 'UTC'}</dd>
        </div>
        <div>
          <dt>{t('campaign.scheduledAt')}</dt>
          <dd>
            {when(campaign.scheduledAt)}
            {campaign.scheduledAt && <span className="muted small"> ({utcText(campaign.scheduledAt)})</span>}
          </dd>
        </div>
        <div>
          <dt>{t('campaign.startedAt')}</dt>
          <dd>{when(campaign.startedAt)}</dd>
        </div>
        <div>
          <dt>{t('campaign.completedAt')}</dt>
          <dd>{when(campaign.completedAt)}</dd>
        </div>
      </dl>

      <div className="actions">
        {canEdit(role) && campaign.status === 'DRAFT' && (
          <Link className="button" to={`/app/campaigns/${encodeURIComponent(id)}/edit`}>
            {t('campaigns.x.edit')}
          </Link>
        )}
        {sender && campaign.status === 'SENDING' && (
          <button type="button" onClick={() => void act(() => request(() => api.POST('/campaigns/{id}/pause', path)), 'campaigns.x.paused')().catch(() => undefined)}>
            {t('campaigns.x.pause')}
          </button>
        )}
        {sender && campaign.status === 'PAUSED' && (
          <button type="button" onClick={() => void act(() => request(() => api.POST('/campaigns/{id}/resume', path)), 'campaigns.x.resumed')().catch(() => undefined)}>
            {t('campaigns.x.resume')}
          </button>
        )}
        {sender && ['DRAFT', 'SCHEDULED', 'SENDING', 'PAUSED'].includes(campaign.status) && (
          <ConfirmButton
            label={t('campaigns.x.cancel')}
            question={t('campaigns.x.confirmCancel')}
            confirmLabel={t('campaigns.x.confirmCancelYes')}
            danger
            action={act(() => request(() => api.POST('/campaigns/{id}/cancel', path)), 'campaigns.x.cancelled')}
          />
        )}
      </div>
      <ErrorMessage error={actionError} />
      {notice && (
        <p role="status" className="alert alert-ok">
          {t(notice)}
        </p>
      )}

      {preparing && <PreflightList preflight={preflight} />}

      {sender && preparing && (
        <div className="send-panel">
          {blocked && (
            <p id="send-blocked" className="alert alert-error">
              {t('campaigns.x.blocked', { checks: preflight.checks.filter((c) => c.status === 'fail').map((c) => t(`campaigns.check.${c.id}`)).join(', ') })}
            </p>
          )}
          <div className="actions">
            <ConfirmButton
              label={t('campaign.send')}
              question={t('campaign.confirmSend', { count: number(reach) })}
              confirmLabel={t('campaign.confirm')}
              confirmDisabled={blocked}
              describedBy={blocked ? 'send-blocked' : undefined}
              action={act(
                () => request(() => api.POST('/campaigns/{id}/send', { params: { path: { id }, header: { 'Idempotency-Key': crypto.randomUUID() } } })),
                'campaign.sending',
              )}
            >
              <SendImpact count={reach} />
            </ConfirmButton>
            <Schedule campaign={campaign} blocked={blocked} onScheduled={act} />
          </div>
        </div>
      )}

      {canEdit(role) && preparing && <TestSend id={id} coverage={coverage} />}

      <h2>{t('campaign.counters')}</h2>
      <ProgressBar value={done} max={c.total} label={t('campaigns.progressLabel', { done: number(done), total: number(c.total) })} />
      {LIVE.has(campaign.status) && <p className="muted small">{liveError ? t('campaigns.x.liveLost') : t('campaigns.x.live')}</p>}
      <dl className="counters" aria-live="off">
        {(
          [
            ['campaign.total', c.total],
            ['campaign.queued', c.queued],
            ['campaign.sent', c.sent],
            ['campaign.failed', c.failed],
            ['campaign.cancelled', c.cancelled],
            ['campaign.skipped', skipped],
          ] as const
        ).map(([key, value]) => (
          <div key={key}>
            <dt>{t(key)}</dt>
            <dd data-testid={key}>{number(value)}</dd>
          </div>
        ))}
      </dl>

      <h2 id="coverage-title">{t('campaign.coverage')}</h2>
      <p className="muted">{t('campaign.coverageIntro')}</p>
      {coverage.length === 0 ? (
        <p>{t('campaign.noCoverage')}</p>
      ) : (
        <>
          {uncovered.length > 0 && <p className="warning-text">{t('campaign.uncoveredCount', { count: number(uncovered.length) })}</p>}
          <table className="table coverage" aria-labelledby="coverage-title">
            <thead>
              <tr>
                <th scope="col">{t('campaign.locale')}</th>
                <th scope="col" className="numeric">
                  {t('campaign.contacts')}
                </th>
                <th scope="col">{t('campaign.covered')}</th>
              </tr>
            </thead>
            <tbody>
              {coverage.map((row) => (
                <tr key={row.locale ?? ''} className={row.hasTemplate ? undefined : 'uncovered'}>
                  <th scope="row">{row.locale ?? t('campaign.noLocale')}</th>
                  <td className="numeric">{number(row.count)}</td>
                  <td>{row.hasTemplate ? <span className="ok-text">✓ {t('campaign.yes')}</span> : <strong>⚠ {t('campaign.no')}</strong>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

const utcText = (iso: string) => `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * Follows GET /campaigns/{id}/progress (Server-Sent Events; the session
 * cookie goes with it, same origin) while `active`: each `progress` event
 * updates the status and counters, `done` closes the stream and reloads the
 * campaign (completedAt). Returns whether the stream was lost.
 */
function useProgress(id: string, active: boolean, setCampaign: (update: (c: Campaign | undefined) => Campaign | undefined) => void, reload: () => void): boolean {
  const [lost, setLost] = useState(false);
  useEffect(() => {
    if (!active) return;
    setLost(false);
    const source = new EventSource(`/campaigns/${encodeURIComponent(id)}/progress`);
    const apply = (event: MessageEvent<string>) => {
      const data = JSON.parse(event.data) as { status: Campaign['status']; counters: Campaign['counters'] };
      setCampaign((c) => (c ? { ...c, status: data.status, counters: data.counters } : c));
    };
    source.addEventListener('progress', apply);
    source.addEventListener('done', (event) => {
      apply(event);
      source.close();
      reload();
    });
    // EventSource reconnects by itself after a dropped connection; CLOSED means it gave up (e.g. a 404 or 429 answer).
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) setLost(true);
    };
    return () => source.close();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, active]);
  return lost;
}

/** The pre-send checks (GET /campaigns/{id}/preflight): a failed one blocks send and schedule. */
function PreflightList({ preflight }: { preflight: Preflight }) {
  const { t } = useI18n();
  return (
    <>
      <h2 id="preflight-title">{t('campaigns.x.preflight')}</h2>
      <ul className="checklist" aria-labelledby="preflight-title">
        {preflight.checks.map((check) => (
          <li key={check.id} className={`check check-${check.status}`}>
            <strong>
              <span aria-hidden="true">{check.status === 'ok' ? '✓' : check.status === 'warn' ? '⚠' : '✗'} </span>
              {t(`campaigns.check.${check.id}`)}: {t(`campaigns.checkStatus.${check.status}`)}
            </strong>
            <span className="muted small"> {check.message}</span>
          </li>
        ))}
      </ul>
    </>
  );
}

/** In the send confirmation: what sending to `count` contacts does to the month's quota (GET /usage). */
function SendImpact({ count }: { count: number }) {
  const { t, number } = useI18n();
  const { data: usage, error } = useLoad(() => request(() => api.GET('/usage')), []);
  if (error) return <ErrorMessage error={error} />;
  if (!usage) return <Loading />;
  const after = usage.used + count;
  const percent = usage.limit > 0 ? Math.round((after / usage.limit) * 1000) / 10 : 0;
  const level = percent > 110 ? 'over' : percent > 100 ? 'grace' : percent >= 80 ? 'warning' : 'ok';
  return (
    <div className="impact">
      <p>{t('campaigns.x.quota', { count: number(count), used: number(usage.used), after: number(after), limit: number(usage.limit), percent: number(percent) })}</p>
      {level !== 'ok' && <p className={level === 'warning' ? 'warning-text' : 'alert alert-error'}>{t(`campaigns.x.quota.${level}`)}</p>}
    </div>
  );
}

/** Schedule: a wall-clock date-time in the campaign's time zone, with the UTC instant it means shown before confirming. */
function Schedule({
  campaign,
  blocked,
  onScheduled,
}: {
  campaign: Campaign;
  blocked: boolean;
  onScheduled: (call: () => Promise<Campaign>, done: MessageKey) => () => Promise<void>;
}) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [local, setLocal] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const zone = campaign.timezone ?? 'UTC';
  const instant = local ? zonedToUtc(local, zone) : null;
  if (!open) {
    return (
      <button type="button" className="button-secondary" onClick={() => setOpen(true)}>
        {campaign.status === 'SCHEDULED' ? t('campaigns.x.reschedule') : t('campaigns.x.schedule')}
      </button>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    onScheduled(
      () =>
        request(() =>
          api.POST('/campaigns/{id}/schedule', { params: { path: { id: campaign.id } }, body: { scheduledAt: `${local}:00`, timezone: zone } }),
        ),
      'campaigns.x.scheduled',
    )().then(
      () => setOpen(false),
      (err: unknown) => setError(err),
    ).finally(() => setBusy(false));
  };
  return (
    <form className="confirm schedule" onSubmit={submit} aria-labelledby="schedule-title">
      <h3 id="schedule-title">{t('campaigns.x.scheduleTitle')}</h3>
      <div className="field">
        <label htmlFor="schedule-at">{t('campaigns.x.scheduleAt', { zone })}</label>
        <input
          id="schedule-at"
          type="datetime-local"
          value={local}
          required
          onChange={(e) => setLocal(e.target.value)}
          aria-describedby="schedule-utc"
          aria-invalid={fieldError(error, 'scheduledAt') ? true : undefined}
        />
      </div>
      <p id="schedule-utc" role="status" className="utc-instant">
        {!local ? t('campaigns.x.scheduleHint') : instant ? t('campaigns.x.utc', { utc: utcText(instant.toISOString()), zone }) : t('campaigns.x.noSuchTime', { zone })}
      </p>
      <FieldError id="schedule-error" message={fieldError(error, 'scheduledAt')} />
      <ErrorMessage error={error} />
      <div className="confirm-buttons">
        <button type="submit" disabled={busy || !instant || blocked} aria-describedby={blocked ? 'send-blocked' : undefined}>
          {t('campaigns.x.confirmSchedule')}
        </button>
        <button type="button" className="button-secondary" onClick={() => setOpen(false)}>
          {t('campaign.cancel')}
        </button>
      </div>
    </form>
  );
}

/** Test send: 1–5 addresses, each its own locale's variant or one chosen locale's; the result per address. */
function TestSend({ id, coverage }: { id: string; coverage: Coverage }) {
  const { t } = useI18n();
  const [emails, setEmails] = useState('');
  const [locale, setLocale] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [results, setResults] = useState<TestResults | undefined>(undefined);
  const locales = [...new Set(coverage.map((row) => row.locale).filter((l): l is string => !!l))];
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setResults(undefined);
    try {
      const list = emails.split(/[\s,;]+/).filter(Boolean);
      const answer = await request(() => api.POST('/campaigns/{id}/test', { params: { path: { id } }, body: { emails: list, ...(locale ? { locale } : {}) } }));
      setResults(answer.results);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const emailsError = fieldError(error, 'emails');
  return (
    <form className="form test-send" onSubmit={(e) => void submit(e)} aria-labelledby="test-title" noValidate>
      <h2 id="test-title">{t('campaigns.test.title')}</h2>
      <div className="field">
        <label htmlFor="test-emails">{t('campaigns.test.emails')}</label>
        <input
          id="test-emails"
          value={emails}
          onChange={(e) => setEmails(e.target.value)}
          aria-describedby={emailsError ? 'test-emails-hint test-emails-error' : 'test-emails-hint'}
          aria-invalid={emailsError ? true : undefined}
        />
        <p id="test-emails-hint" className="muted small">
          {t('campaigns.test.emailsHint')}
        </p>
        <FieldError id="test-emails-error" message={emailsError} />
      </div>
      <div className="field">
        <label htmlFor="test-locale">{t('campaigns.test.locale')}</label>
        <select id="test-locale" value={locale} onChange={(e) => setLocale(e.target.value)}>
          <option value="">{t('campaigns.test.ownLocale')}</option>
          {locales.map((l) => (
            <option key={l} value={l}>
              {l}
            </option>
          ))}
        </select>
      </div>
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy || !emails.trim()}>
        {busy ? t('campaigns.test.sending') : t('campaigns.test.send')}
      </button>
      <div role="status">
        {results && (
        <ul className="test-results">
          {results.map((r) => (
            <li key={r.email} className={r.status === 'sent' ? 'ok-text' : 'warning-text'}>
              {r.status === 'sent' ? t('campaigns.test.sent', { email: r.email }) : t('campaigns.test.failed', { email: r.email, error: r.error ?? '' })}
            </li>
          ))}
        </ul>
        )}
      </div>
    </form>
  );
}
