import { useState } from 'react';
import { api, request } from '../api';
import { ErrorMessage, Loading, PageTitle, ProgressBar, useLoad } from '../components';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { canSend, useSession } from '../session';

/** A campaign, read-only: status, counters, locale coverage; Send only for roles holding campaigns:send. */
export default function CampaignDetail({ id }: { id: string }) {
  const { t, number, date } = useI18n();
  const { role } = useSession();
  const { data, error, reload } = useLoad(
    () =>
      Promise.all([
        request(() => api.GET('/campaigns/{id}', { params: { path: { id } } })),
        request(() => api.GET('/campaigns/{id}/locale-coverage', { params: { path: { id } } })),
      ]),
    [id],
  );
  const [confirming, setConfirming] = useState(false);
  const [sendState, setSendState] = useState<{ busy: boolean; error: unknown; done: boolean }>({ busy: false, error: undefined, done: false });

  if (error) {
    return (
      <section>
        <Link to="/app/campaigns">{t('campaign.back')}</Link>
        <ErrorMessage error={error} onRetry={reload} />
      </section>
    );
  }
  if (!data) return <Loading />;
  const [campaign, coverage] = data;
  const c = campaign.counters;
  const done = c.sent + c.failed + c.cancelled;
  const skipped = c.skipped.quota + c.skipped.suppressed + c.skipped.optedOut + c.skipped.erased;
  const reach = coverage.reduce((sum, row) => sum + row.count, 0);
  const uncovered = coverage.filter((row) => !row.hasTemplate);
  const sendable = canSend(role) && (campaign.status === 'DRAFT' || campaign.status === 'SCHEDULED');

  const send = async () => {
    setSendState({ busy: true, error: undefined, done: false });
    try {
      await request(() => api.POST('/campaigns/{id}/send', { params: { path: { id }, header: { 'Idempotency-Key': crypto.randomUUID() } } }));
      setSendState({ busy: false, error: undefined, done: true });
      setConfirming(false);
      reload();
    } catch (err) {
      setSendState({ busy: false, error: err, done: false });
    }
  };
  const when = (iso: string | null) => (iso ? date(iso) : t('campaign.none'));

  return (
    <section>
      <p>
        <Link to="/app/campaigns">{t('campaign.back')}</Link>
      </p>
      <PageTitle>{campaign.name}</PageTitle>
      <dl className="facts">
        <div>
          <dt>{t('campaign.status')}</dt>
          <dd>
            <span className={`badge badge-${campaign.status.toLowerCase()}`}>{t(`status.${campaign.status}`)}</span>
          </dd>
        </div>
        <div>
          <dt>{t('campaign.subject')}</dt>
          <dd>{campaign.subject ?? t('campaign.noSubject')}</dd>
        </div>
        <div>
          <dt>{t('campaign.scheduledAt')}</dt>
          <dd>{when(campaign.scheduledAt)}</dd>
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

      {sendable && (
        <div className="actions">
          {!confirming ? (
            <button type="button" onClick={() => setConfirming(true)}>
              {t('campaign.send')}
            </button>
          ) : (
            <div className="confirm" role="group" aria-labelledby="confirm-send">
              <p id="confirm-send">{t('campaign.confirmSend', { count: number(reach) })}</p>
              <button type="button" disabled={sendState.busy} onClick={() => void send()}>
                {t('campaign.confirm')}
              </button>
              <button type="button" className="button-secondary" onClick={() => setConfirming(false)}>
                {t('campaign.cancel')}
              </button>
            </div>
          )}
        </div>
      )}
      <ErrorMessage error={sendState.error} />
      {sendState.done && <p role="status">{t('campaign.sending')}</p>}

      <h2>{t('campaign.counters')}</h2>
      <ProgressBar value={done} max={c.total} label={t('campaigns.progressLabel', { done: number(done), total: number(c.total) })} />
      <dl className="counters">
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
            <dd>{number(value)}</dd>
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
