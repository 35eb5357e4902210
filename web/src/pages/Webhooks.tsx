import { useState, type FormEvent } from 'react';
import { api, request, type Schemas } from '../api';
import { ActionFeedback, CodeChecklist, ConfirmButton, CopyButton, ErrorMessage, Loading, LoadState, PageTitle, StatusMessage, TextField, useAction, useLoad } from '../components';
import { useI18n, type MessageKey } from '../i18n';
import { SettingsNav } from '../settings-nav';

type Endpoint = Schemas['/webhooks/endpoints/{id}']['get']['responses'][200]['content']['application/json'];
type EventType = Schemas['/webhooks/endpoints']['post']['requestBody']['content']['application/json']['events'][number];

// Every event type once: one added to the API and missing here fails `tsc`.
const EVENT_TYPES = Object.keys({
  'email.sent': 1,
  'email.delivered': 1,
  'email.failed': 1,
  'email.bounced': 1,
  'email.complained': 1,
  'email.opened': 1,
  'email.clicked': 1,
  'contact.unsubscribed': 1,
  'contact.erased': 1,
  'campaign.sending': 1,
  'campaign.sent': 1,
  'campaign.cancelled': 1,
  'campaign.paused': 1,
  'campaign.resumed': 1,
  'webhook.endpoint_disabled': 1,
} satisfies Record<EventType, 1>) as EventType[];

/** Webhook endpoints (webhooks:manage): create (the signing secret shown once), enable/disable, send a test, deliveries with retry, delete. */
export default function Webhooks() {
  const { t } = useI18n();
  const { data, error, reload } = useLoad(() => request(() => api.GET('/webhooks/endpoints', { params: { query: { limit: 100 } } })), []);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<EventType[]>([]);
  const [missing, setMissing] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const action = useAction();

  const create = (event: FormEvent) => {
    event.preventDefault();
    if (events.length === 0) {
      setMissing(true);
      return;
    }
    setMissing(false);
    void action.run(async () => {
      const created = await request(() => api.POST('/webhooks/endpoints', { body: { url: url.trim(), events } }));
      setSecret(created.secret);
      setUrl('');
      setEvents([]);
      reload();
    });
  };

  return (
    <section>
      <SettingsNav />
      <PageTitle>{t('webhooks.title')}</PageTitle>
      <p className="muted">{t('webhooks.intro')}</p>
      {secret ? (
        <div className="card secret" role="region" aria-labelledby="secret-title">
          <h2 id="secret-title">{t('webhooks.secretTitle')}</h2>
          <p className="warning-text">{t('webhooks.secretOnce')}</p>
          <div className="secret-row">
            <label htmlFor="new-secret">{t('webhooks.secretLabel')}</label>
            <input id="new-secret" className="secret-value" type="text" readOnly value={secret} onFocus={(e) => e.target.select()} />
            <CopyButton text={secret} />
          </div>
          <button type="button" onClick={() => setSecret(null)}>
            {t('apiKeys.done')}
          </button>
        </div>
      ) : (
        <form className="card form-card" aria-labelledby="webhook-new" onSubmit={create}>
          <h2 id="webhook-new">{t('webhooks.new')}</h2>
          <TextField id="webhook-url" label={t('webhooks.url')} type="url" required placeholder="https://example.com/hooks/mailingcore" value={url} onChange={setUrl} />
          <CodeChecklist id="webhook-events" legend={t('webhooks.eventsLegend')} options={EVENT_TYPES} chosen={events} onChange={setEvents} missing={missing ? t('webhooks.noEvent') : undefined} />
          <button type="submit" disabled={action.busy}>
            {t('webhooks.create')}
          </button>
        </form>
      )}
      <ActionFeedback action={action} />
      <LoadState data={data} error={error} reload={reload} />
      {data && data.data.length === 0 && <p>{t('webhooks.empty')}</p>}
      {data?.data.map((endpoint) => (
        <EndpointCard
          key={endpoint.id}
          endpoint={endpoint}
          onDeleted={() => {
            action.done(t('webhooks.deleted'));
            reload();
          }}
        />
      ))}
    </section>
  );
}

function EndpointCard({ endpoint: initial, onDeleted }: { endpoint: Endpoint; onDeleted: () => void }) {
  const { t, date } = useI18n();
  const [endpoint, setEndpoint] = useState(initial);
  const [showDeliveries, setShowDeliveries] = useState(false);
  const [generation, setGeneration] = useState(0);
  const action = useAction();
  const titleId = `endpoint-${endpoint.id}`;

  const toggle = () =>
    void action.run(async () => {
      setEndpoint(await request(() => api.PATCH('/webhooks/endpoints/{id}/toggle', { params: { path: { id: endpoint.id } } })));
    });
  const test = () =>
    void action.run(async () => {
      const delivery = await request(() => api.POST('/webhooks/endpoints/{id}/test', { params: { path: { id: endpoint.id } } }));
      setShowDeliveries(true);
      setGeneration((g) => g + 1);
      const code = delivery.statusCode === null ? '' : ` (${delivery.statusCode})`;
      return t('webhooks.tested', { url: endpoint.url, status: `${t(`delivery.${delivery.status}`)}${code}` });
    });
  const remove = async () => {
    await request(() => api.DELETE('/webhooks/endpoints/{id}', { params: { path: { id: endpoint.id } } }));
    onDeleted();
  };

  return (
    <section className="card endpoint" aria-labelledby={titleId}>
      <div className="card-head">
        <h2 id={titleId} className="break">
          {endpoint.url}
        </h2>
        <span className={`badge ${endpoint.enabled ? 'badge-sent' : 'badge-cancelled'}`}>{endpoint.enabled ? t('webhooks.enabled') : t('webhooks.disabled')}</span>
      </div>
      {!endpoint.enabled && endpoint.disabledReason && <p className="warning-text">{t('webhooks.disabledReason', { reason: endpoint.disabledReason })}</p>}
      <p className="small">
        <span className="muted">{t('webhooks.events')}: </span>
        {endpoint.events.join(', ')}
      </p>
      <div className="row-actions">
        <button type="button" className="button-secondary" disabled={action.busy} onClick={toggle}>
          {endpoint.enabled ? t('webhooks.disable') : t('webhooks.enable')}
        </button>
        <button type="button" className="button-secondary" disabled={action.busy} onClick={test}>
          {t('webhooks.test')}
        </button>
        <button type="button" className="button-secondary" aria-expanded={showDeliveries} onClick={() => setShowDeliveries((s) => !s)}>
          {showDeliveries ? t('webhooks.hideDeliveries') : t('webhooks.deliveries')}
        </button>
        <ConfirmButton label={t('common.delete')} question={t('webhooks.deleteConfirm', { url: endpoint.url })} onConfirm={remove} />
      </div>
      <ActionFeedback action={action} />
      {showDeliveries && <Deliveries key={generation} endpoint={endpoint} date={date} t={t} />}
    </section>
  );
}

function Deliveries({ endpoint, date, t }: { endpoint: Endpoint; date: (iso: string) => string; t: ReturnType<typeof useI18n>['t'] }) {
  const { data, error, reload } = useLoad(
    () => request(() => api.GET('/webhooks/endpoints/{id}/deliveries', { params: { path: { id: endpoint.id }, query: { limit: 20 } } })),
    [endpoint.id],
  );
  const action = useAction();
  const retry = (deliveryId: string) =>
    void action.run(async () => {
      await request(() => api.POST('/webhooks/endpoints/{id}/deliveries/{deliveryId}/retry', { params: { path: { id: endpoint.id, deliveryId } } }));
      reload();
      return t('webhooks.retried');
    });
  const tableTitle = `deliveries-${endpoint.id}`;
  return (
    <div className="deliveries">
      <div className="toolbar">
        <h3 id={tableTitle}>{t('webhooks.deliveriesOf', { url: endpoint.url })}</h3>
        <button type="button" className="button-secondary button-small" onClick={reload}>
          {t('webhooks.refresh')}
        </button>
      </div>
      <ErrorMessage error={error ?? action.error} onRetry={error ? reload : undefined} />
      <StatusMessage text={action.status} />
      {!data && !error && <Loading />}
      {data && data.data.length === 0 && <p>{t('webhooks.noDeliveries')}</p>}
      {data && data.data.length > 0 && (
        <div className="table-scroll">
          <table className="table" aria-labelledby={tableTitle}>
            <thead>
              <tr>
                <th scope="col">{t('webhooks.event')}</th>
                <th scope="col">{t('common.status')}</th>
                <th scope="col">{t('webhooks.code')}</th>
                <th scope="col">{t('webhooks.attempt')}</th>
                <th scope="col">{t('common.created')}</th>
                <th scope="col">{t('webhooks.error')}</th>
                <th scope="col">{t('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {data.data.map((delivery) => (
                <tr key={delivery.id}>
                  <td>
                    <code>{delivery.event}</code>
                  </td>
                  <td>
                    <span className={`badge badge-delivery-${delivery.status}`}>{t(`delivery.${delivery.status}` as MessageKey)}</span>
                  </td>
                  <td className="numeric">{delivery.statusCode ?? '—'}</td>
                  <td className="numeric">{delivery.attempt}</td>
                  <td>{date(delivery.createdAt)}</td>
                  <td className="break small">{delivery.lastError ?? ''}</td>
                  <td>
                    {delivery.status !== 'delivered' && (
                      <button type="button" className="button-secondary button-small" disabled={action.busy || !endpoint.enabled} onClick={() => retry(delivery.id)}>
                        {t('webhooks.retry')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
