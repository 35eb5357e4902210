import { useState } from 'react';
import { api, request, type Schemas } from '../api';
import { ErrorMessage, Loading, PageTitle, useLoad } from '../components';
import { useI18n, type MessageKey } from '../i18n';
import { Link, navigate, useLocation } from '../router';
import { canSend, useSession } from '../session';
import { CampaignTabs, ConfirmButton } from './campaign-common';

type MessageStatus = NonNullable<NonNullable<Schemas['/campaigns/{id}/messages']['get']['parameters']['query']>['status']>;
const STATUSES: MessageStatus[] = ['QUEUED', 'SENDING', 'SENT', 'FAILED', 'CANCELLED', 'SKIPPED'];
const LIMIT = 50;

/** The per-recipient log (GET /campaigns/{id}/messages): status filter and paging in the address, raw captured email, retry failed. */
export default function CampaignMessages({ id }: { id: string }) {
  const { t, number, date } = useI18n();
  const { role } = useSession();
  const { query } = useLocation();
  const status = STATUSES.find((s) => s === query.get('status'));
  const page = Math.max(1, Number(query.get('page')) || 1);
  const { data, error, reload } = useLoad(
    () =>
      Promise.all([
        request(() => api.GET('/campaigns/{id}', { params: { path: { id } } })),
        request(() => api.GET('/campaigns/{id}/messages', { params: { path: { id }, query: { page, limit: LIMIT, ...(status ? { status } : {}) } } })),
      ]),
    [id, status, page],
  );
  const [retry, setRetry] = useState<{ error?: unknown; requeued?: number }>({});

  const base = `/app/campaigns/${encodeURIComponent(id)}/messages`;
  const go = (next: { status?: MessageStatus | undefined; page?: number }) => {
    const params = new URLSearchParams();
    const nextStatus = 'status' in next ? next.status : status;
    if (nextStatus) params.set('status', nextStatus);
    if ((next.page ?? 1) > 1) params.set('page', String(next.page));
    const search = params.toString();
    navigate(`${base}${search ? `?${search}` : ''}`);
  };

  if (error && !data) {
    return (
      <section>
        <Link to="/app/campaigns">{t('campaign.back')}</Link>
        <ErrorMessage error={error} onRetry={reload} />
      </section>
    );
  }
  if (!data) return <Loading />;
  const [campaign, messages] = data;
  const retryable = canSend(role) && (campaign.status === 'SENDING' || campaign.status === 'SENT') && campaign.counters.failed > 0;

  const retryFailed = async () => {
    setRetry({});
    try {
      const answer = await request(() => api.POST('/campaigns/{id}/retry-failed', { params: { path: { id } } }));
      setRetry({ requeued: answer.requeued });
      reload();
    } catch (err) {
      setRetry({ error: err });
      throw err;
    }
  };

  return (
    <section>
      <p>
        <Link to="/app/campaigns">{t('campaign.back')}</Link>
      </p>
      <PageTitle>{t('campaigns.log.title', { name: campaign.name })}</PageTitle>
      <CampaignTabs campaign={campaign} />
      <div className="toolbar">
        <label className="inline-field">
          <span>{t('campaigns.log.filter')}</span>
          <select value={status ?? ''} onChange={(e) => go({ status: (e.target.value || undefined) as MessageStatus | undefined })}>
            <option value="">{t('campaigns.all')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`campaigns.msg.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <p className="muted" role="status">
          {messages.meta.total === 1 ? t('campaigns.log.countOne') : t('campaigns.log.count', { total: number(messages.meta.total) })}
        </p>
        {retryable && (
          <ConfirmButton
            label={t('campaigns.log.retry')}
            question={campaign.counters.failed === 1 ? t('campaigns.log.confirmRetryOne') : t('campaigns.log.confirmRetry', { count: number(campaign.counters.failed) })}
            confirmLabel={t('campaigns.log.confirmRetryYes')}
            action={retryFailed}
          />
        )}
      </div>
      <ErrorMessage error={retry.error ?? error} />
      {retry.requeued !== undefined && (
        <p role="status" className="alert alert-ok">
          {retry.requeued === 1 ? t('campaigns.log.requeuedOne') : t('campaigns.log.requeued', { count: number(retry.requeued) })}
        </p>
      )}
      {messages.data.length === 0 ? (
        <p>{t('campaigns.log.empty')}</p>
      ) : (
        <table className="table messages">
          <caption className="sr-only">{t('campaigns.log.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('campaigns.log.email')}</th>
              <th scope="col">{t('campaigns.log.locale')}</th>
              <th scope="col">{t('campaigns.status')}</th>
              <th scope="col" className="numeric">
                {t('campaigns.log.attempts')}
              </th>
              <th scope="col">{t('campaigns.log.lastError')}</th>
              <th scope="col">{t('campaigns.log.sentAt')}</th>
              <th scope="col">{t('campaigns.log.raw')}</th>
            </tr>
          </thead>
          <tbody>
            {messages.data.map((m) => (
              <tr key={m.id}>
                <th scope="row">{m.email ?? t('campaigns.log.erased')}</th>
                <td>{m.locale ?? t('campaign.noLocale')}</td>
                <td>
                  <span className={`badge badge-msg-${m.status.toLowerCase()}`}>{t(`campaigns.msg.${m.status}`)}</span>
                </td>
                <td className="numeric">{number(m.attempts)}</td>
                <td className="error-text">{m.lastError ?? (m.skipReason ? t(`campaigns.skip.${m.skipReason}` as MessageKey) : '')}</td>
                <td>{m.sentAt ? date(m.sentAt) : t('campaign.none')}</td>
                <td>
                  {m.status === 'SENT' ? (
                    <a href={`/campaigns/${encodeURIComponent(id)}/messages/${m.id}/raw`} download={`message-${m.id}.eml`}>
                      {t('campaigns.log.download')}
                      <span className="sr-only"> {m.email ?? ''}</span>
                    </a>
                  ) : (
                    t('campaign.none')
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {messages.meta.totalPages > 1 && (
        <nav className="paging" aria-label={t('paging.label')}>
          <button type="button" className="button-secondary" disabled={page <= 1} onClick={() => go({ page: page - 1 })}>
            {t('paging.previous')}
          </button>
          <span>{t('paging.page', { page: number(page), pages: number(messages.meta.totalPages) })}</span>
          <button type="button" className="button-secondary" disabled={page >= messages.meta.totalPages} onClick={() => go({ page: page + 1 })}>
            {t('paging.next')}
          </button>
        </nav>
      )}
    </section>
  );
}
