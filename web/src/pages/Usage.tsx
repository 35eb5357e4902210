import { api, request } from '../api';
import { ErrorMessage, Loading, PageTitle, useLoad } from '../components';
import { useI18n } from '../i18n';

const WARN = 80;
const GRACE = 110;

/** The month's quota: a meter with the 80 % mark, the 100–110 % grace band (docs/SENDING.md). */
export default function Usage() {
  const { t, number } = useI18n();
  const { data, error, reload } = useLoad(() => request(() => api.GET('/usage')), []);
  if (error) return <ErrorMessage error={error} onRetry={reload} />;
  if (!data) return <Loading />;
  const { used, limit, percentage, month } = data;
  const level = percentage >= GRACE ? 'blocked' : percentage >= 100 ? 'grace' : percentage >= WARN ? 'warning' : 'ok';
  // The scale goes to 110 %: the grace band is its last eleventh.
  const fill = Math.min(100, (percentage / GRACE) * 100);
  const message = { ok: t('usage.ok'), warning: t('usage.warning'), grace: t('usage.grace'), blocked: t('usage.blocked') }[level];
  const label = t('usage.used', { used: number(used), limit: number(limit), percentage: number(Math.round(percentage * 10) / 10) });

  return (
    <section>
      <PageTitle>{t('usage.title')}</PageTitle>
      <p className="muted">{t('usage.month', { month })}</p>
      <h2 id="meter-title">{t('usage.meter')}</h2>
      <p>{label}</p>
      <div
        className={`quota quota-${level}`}
        role="meter"
        aria-labelledby="meter-title"
        aria-valuemin={0}
        aria-valuemax={limit}
        aria-valuenow={Math.min(used, Math.round(limit * 1.1))}
        aria-valuetext={label}
      >
        <div className="quota-fill" style={{ width: `${fill}%` }} />
        <div className="quota-mark quota-mark-warn" />
        <div className="quota-grace-band" />
      </div>
      <p className="muted small">
        {t('usage.legend', { warn: number(Math.round(limit * 0.8)), limit: number(limit), grace: number(Math.floor(limit * 1.1)) })}
      </p>
      <p className={`alert alert-${level === 'ok' ? 'ok' : level === 'warning' ? 'warning' : 'error'}`} role="status">
        {message}
      </p>
    </section>
  );
}
