import { api, request, type CampaignStatus } from '../api';
import { LoadState, PageTitle, ProgressBar, useLoad } from '../components';
import { useI18n } from '../i18n';
import { Link, navigate, useLocation } from '../router';
import { useSession } from '../session';
import { canEdit } from './campaign-common';

export const STATUSES: CampaignStatus[] = ['DRAFT', 'SCHEDULED', 'SENDING', 'PAUSED', 'SENT', 'CANCELLED'];
const LIMIT = 20;

/** Campaigns: status filter, counters and a progress bar per campaign, paging (state in the address: ?status=&page=). */
export default function Campaigns() {
  const { t, number, date } = useI18n();
  const { query } = useLocation();
  const { role } = useSession();
  const status = STATUSES.find((s) => s === query.get('status'));
  const page = Math.max(1, Number(query.get('page')) || 1);
  const { data, error, reload } = useLoad(
    () => request(() => api.GET('/campaigns', { params: { query: { page, limit: LIMIT, ...(status ? { status } : {}) } } })),
    [status, page],
  );

  const go = (next: { status?: CampaignStatus | undefined; page?: number }) => {
    const params = new URLSearchParams();
    const nextStatus = 'status' in next ? next.status : status;
    if (nextStatus) params.set('status', nextStatus);
    const nextPage = next.page ?? 1;
    if (nextPage > 1) params.set('page', String(nextPage));
    const search = params.toString();
    navigate(`/app/campaigns${search ? `?${search}` : ''}`);
  };

  return (
    <section>
      <PageTitle>{t('campaigns.title')}</PageTitle>
      <div className="toolbar">
        {canEdit(role) && (
          <Link className="button" to="/app/campaigns/new">
            {t('campaigns.new')}
          </Link>
        )}
        <label className="inline-field">
          <span>{t('campaigns.filter')}</span>
          <select value={status ?? ''} onChange={(e) => go({ status: (e.target.value || undefined) as CampaignStatus | undefined })}>
            <option value="">{t('campaigns.all')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        {data && (
          <p className="muted" role="status">
            {t('campaigns.count', { total: number(data.meta.total) })}
          </p>
        )}
      </div>
      <LoadState data={data} error={error} reload={reload} />
      {data && data.data.length === 0 && <p>{t('campaigns.empty')}</p>}
      {data && data.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t('campaigns.name')}</th>
              <th scope="col">{t('campaigns.status')}</th>
              <th scope="col">{t('campaigns.counters')}</th>
              <th scope="col">{t('campaigns.progress')}</th>
              <th scope="col">{t('campaigns.created')}</th>
            </tr>
          </thead>
          <tbody>
            {data.data.map((campaign) => {
              const c = campaign.counters;
              const done = c.sent + c.failed + c.cancelled;
              return (
                <tr key={campaign.id}>
                  <td>
                    <Link to={`/app/campaigns/${encodeURIComponent(campaign.id)}`}>{campaign.name}</Link>
                  </td>
                  <td>
                    <span className={`badge badge-${campaign.status.toLowerCase()}`}>{t(`status.${campaign.status}`)}</span>
                  </td>
                  <td className="numeric">
                    {number(c.sent)} / {number(c.failed)} / {number(c.total)}
                  </td>
                  <td>
                    <ProgressBar value={done} max={c.total} label={t('campaigns.progressLabel', { done: number(done), total: number(c.total) })} />
                  </td>
                  <td>{date(campaign.createdAt)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {data && data.meta.totalPages > 1 && (
        <nav className="paging" aria-label={t('paging.label')}>
          <button type="button" className="button-secondary" disabled={page <= 1} onClick={() => go({ page: page - 1 })}>
            {t('paging.previous')}
          </button>
          <span>{t('paging.page', { page: number(page), pages: number(data.meta.totalPages) })}</span>
          <button type="button" className="button-secondary" disabled={page >= data.meta.totalPages} onClick={() => go({ page: page + 1 })}>
            {t('paging.next')}
          </button>
        </nav>
      )}
    </section>
  );
}
