import { api, request, type Schemas } from '../api';
import { ErrorMessage, Loading, PageTitle, useLoad } from '../components';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { CampaignTabs } from './campaign-common';

type Stats = Schemas['/campaigns/{id}/stats']['get']['responses'][200]['content']['application/json'];
type Point = Stats['timeline'][number];

/** The report (GET /campaigns/{id}/stats): totals and rates, top links, by locale, a timeline drawn in plain SVG with a table alternative. Its own chunk. */
export default function CampaignReport({ id }: { id: string }) {
  const { t, number } = useI18n();
  const { data, error, reload } = useLoad(
    () =>
      Promise.all([
        request(() => api.GET('/campaigns/{id}', { params: { path: { id } } })),
        request(() => api.GET('/campaigns/{id}/stats', { params: { path: { id } } })),
      ]),
    [id],
  );
  if (error) {
    return (
      <section>
        <Link to="/app/campaigns">{t('campaign.back')}</Link>
        <ErrorMessage error={error} onRetry={reload} />
      </section>
    );
  }
  if (!data) return <Loading />;
  const [campaign, stats] = data;
  const percent = (rate: number) => `${number(Math.round(rate * 1000) / 10)} %`;
  const totals: [string, string][] = [
    [t('campaigns.report.recipients'), number(stats.recipients)],
    [t('campaign.sent'), number(stats.sent)],
    [t('campaign.failed'), number(stats.failed)],
    [t('campaigns.report.bounced'), t('campaigns.report.bouncedValue', { hard: number(stats.bounced.hard), soft: number(stats.bounced.soft) })],
    [t('campaigns.report.complained'), number(stats.complained)],
    [t('campaigns.report.unsubscribed'), number(stats.unsubscribed)],
    [t('campaigns.report.opened'), t('campaigns.report.openedValue', { unique: number(stats.opened.unique), total: number(stats.opened.total), machine: number(stats.opened.machine) })],
    [t('campaigns.report.clicked'), t('campaigns.report.clickedValue', { unique: number(stats.clicked.unique), total: number(stats.clicked.total) })],
  ];
  const rates: [string, number][] = [
    [t('campaigns.report.rate.open'), stats.rates.open],
    [t('campaigns.report.rate.click'), stats.rates.click],
    [t('campaigns.report.rate.clickToOpen'), stats.rates.clickToOpen],
    [t('campaigns.report.rate.bounce'), stats.rates.bounce],
    [t('campaigns.report.rate.complaint'), stats.rates.complaint],
    [t('campaigns.report.rate.unsubscribe'), stats.rates.unsubscribe],
  ];

  return (
    <section className="report">
      <p>
        <Link to="/app/campaigns">{t('campaign.back')}</Link>
      </p>
      <PageTitle>{t('campaigns.report.title', { name: campaign.name })}</PageTitle>
      <CampaignTabs campaign={campaign} />

      <h2>{t('campaigns.report.totals')}</h2>
      <dl className="counters">
        {totals.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <h2>{t('campaigns.report.rates')}</h2>
      <dl className="counters">
        {rates.map(([label, rate]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{percent(rate)}</dd>
          </div>
        ))}
      </dl>

      <h2 id="timeline-title">{t('campaigns.report.timeline')}</h2>
      {stats.timeline.length === 0 ? <p>{t('campaigns.report.noTimeline')}</p> : <Timeline points={stats.timeline} />}

      <h2 id="links-title">{t('campaigns.report.links')}</h2>
      {stats.links.length === 0 ? (
        <p>{t('campaigns.report.noLinks')}</p>
      ) : (
        <table className="table" aria-labelledby="links-title">
          <thead>
            <tr>
              <th scope="col">{t('campaigns.report.url')}</th>
              <th scope="col" className="numeric">
                {t('campaigns.report.clicks')}
              </th>
              <th scope="col" className="numeric">
                {t('campaigns.report.uniqueClicks')}
              </th>
            </tr>
          </thead>
          <tbody>
            {stats.links.map((link) => (
              <tr key={link.url}>
                <th scope="row" className="url">
                  {link.url}
                </th>
                <td className="numeric">{number(link.clicks)}</td>
                <td className="numeric">{number(link.uniqueClicks)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2 id="locales-title">{t('campaigns.report.byLocale')}</h2>
      {stats.byLocale.length === 0 ? (
        <p>{t('campaigns.report.noLocales')}</p>
      ) : (
        <table className="table" aria-labelledby="locales-title">
          <thead>
            <tr>
              <th scope="col">{t('campaign.locale')}</th>
              <th scope="col" className="numeric">
                {t('campaign.sent')}
              </th>
              <th scope="col" className="numeric">
                {t('campaigns.report.openedUnique')}
              </th>
              <th scope="col" className="numeric">
                {t('campaigns.report.clickedUnique')}
              </th>
            </tr>
          </thead>
          <tbody>
            {stats.byLocale.map((row) => (
              <tr key={row.locale ?? ''}>
                <th scope="row">{row.locale ?? t('campaign.noLocale')}</th>
                <td className="numeric">{number(row.sent)}</td>
                <td className="numeric">{number(row.opened)}</td>
                <td className="numeric">{number(row.clicked)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

const SERIES = [
  { key: 'sent', className: 'series-sent', dash: undefined },
  { key: 'opened', className: 'series-opened', dash: '6 4' },
  { key: 'clicked', className: 'series-clicked', dash: '2 3' },
] as const;

/** Sent, opened and clicked per step as lines in plain SVG (no chart library); the same numbers in a table below. */
function Timeline({ points }: { points: Point[] }) {
  const { t, number, date } = useI18n();
  const width = 720;
  const height = 240;
  const pad = { left: 48, right: 16, top: 16, bottom: 36 };
  const max = Math.max(1, ...points.flatMap((p) => [p.sent, p.opened, p.clicked]));
  const x = (i: number) => pad.left + (points.length === 1 ? (width - pad.left - pad.right) / 2 : (i / (points.length - 1)) * (width - pad.left - pad.right));
  const y = (v: number) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
  const label = (key: (typeof SERIES)[number]['key']) => t(`campaigns.report.series.${key}`);
  const ticks = [0, Math.round(max / 2), max];
  const summary = t('campaigns.report.chartSummary', {
    from: date(points[0]!.at),
    to: date(points[points.length - 1]!.at),
    sent: number(points.reduce((s, p) => s + p.sent, 0)),
    opened: number(points.reduce((s, p) => s + p.opened, 0)),
    clicked: number(points.reduce((s, p) => s + p.clicked, 0)),
  });
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby="chart-title chart-desc" className="timeline-chart">
        <title id="chart-title">{t('campaigns.report.timeline')}</title>
        <desc id="chart-desc">{summary}</desc>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={pad.left} x2={width - pad.right} y1={y(v)} y2={y(v)} className="grid" />
            <text x={pad.left - 6} y={y(v) + 4} textAnchor="end" className="axis">
              {number(v)}
            </text>
          </g>
        ))}
        <text x={pad.left} y={height - 10} className="axis">
          {date(points[0]!.at)}
        </text>
        {points.length > 1 && (
          <text x={width - pad.right} y={height - 10} textAnchor="end" className="axis">
            {date(points[points.length - 1]!.at)}
          </text>
        )}
        {SERIES.map((s) => (
          <g key={s.key} className={s.className}>
            <polyline fill="none" strokeWidth={2} strokeDasharray={s.dash} points={points.map((p, i) => `${x(i)},${y(p[s.key])}`).join(' ')} />
            {points.map((p, i) => (
              <circle key={i} cx={x(i)} cy={y(p[s.key])} r={3} />
            ))}
          </g>
        ))}
      </svg>
      <figcaption>
        <ul className="legend">
          {SERIES.map((s) => (
            <li key={s.key} className={s.className}>
              <svg width="28" height="10" aria-hidden="true">
                <line x1="0" x2="28" y1="5" y2="5" strokeWidth={2} strokeDasharray={s.dash} />
              </svg>{' '}
              {label(s.key)}
            </li>
          ))}
        </ul>
        <p className="muted small">{summary}</p>
      </figcaption>
      <details>
        <summary>{t('campaigns.report.asTable')}</summary>
        <table className="table">
          <caption className="sr-only">{t('campaigns.report.timeline')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('campaigns.report.at')}</th>
              {SERIES.map((s) => (
                <th key={s.key} scope="col" className="numeric">
                  {label(s.key)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {points.map((p) => (
              <tr key={p.at}>
                <th scope="row">{date(p.at)}</th>
                <td className="numeric">{number(p.sent)}</td>
                <td className="numeric">{number(p.opened)}</td>
                <td className="numeric">{number(p.clicked)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
