import { useState, type FormEvent } from 'react';
import { api, request, type Schemas } from '../api';
import { ActionFeedback, ConfirmButton, CopyButton, LoadState, PageTitle, TextField, useAction, useLoad } from '../components';
import { useI18n, type MessageKey } from '../i18n';
import { can } from '../scopes';
import { useSession } from '../session';
import { SettingsNav } from '../settings-nav';

type Domain = Schemas['/domains/{id}']['get']['responses'][200]['content']['application/json'];
type Verification = Schemas['/domains/{id}/verify']['post']['responses'][200]['content']['application/json'];
type Purpose = Domain['records'][number]['purpose'];

/** The reason a verification gave for each record's purpose. */
const reasonOf = (v: Verification, purpose: Purpose): string | null =>
  ({
    dkim: v.dkimReason,
    nextDkim: v.nextDkimReason,
    spf: v.spfReason,
    dmarc: v.dmarcReason,
    returnPath: v.returnPathReason,
    returnPathSpf: v.returnPathSpfReason,
  })[purpose];

/** Sending domains: add, the DNS records to publish (copy buttons), verify with per-record status and reasons, rotate DKIM, delete. */
export default function Domains() {
  const { t } = useI18n();
  const { role } = useSession();
  const writable = can(role, 'domains:write');
  const { data, error, reload } = useLoad(() => request(() => api.GET('/domains', { params: { query: { limit: 100 } } })), []);
  const [name, setName] = useState('');
  const action = useAction();

  const add = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      await request(() => api.POST('/domains', { body: { name: name.trim() } }));
      setName('');
      reload();
    });
  };

  return (
    <section>
      <SettingsNav />
      <PageTitle>{t('domains.title')}</PageTitle>
      <p className="muted">{t('domains.intro')}</p>
      {writable ? (
        <form className="card form-card inline-form" aria-labelledby="domain-add" onSubmit={add}>
          <h2 id="domain-add">{t('domains.add')}</h2>
          <TextField id="domain-name" label={t('domains.name')} required placeholder="news.example.com" value={name} onChange={setName} />
          <button type="submit" disabled={action.busy}>
            {t('domains.addSubmit')}
          </button>
        </form>
      ) : (
        <p className="muted">{t('common.readOnly')}</p>
      )}
      <ActionFeedback action={action} />
      <LoadState data={data} error={error} reload={reload} />
      {data && data.data.length === 0 && <p>{t('domains.empty')}</p>}
      {data?.data.map((domain) => (
        <DomainCard
          key={domain.id}
          domain={domain}
          writable={writable}
          onDeleted={() => {
            action.done(t('domains.deleted', { name: domain.name }));
            reload();
          }}
        />
      ))}
    </section>
  );
}

function DomainCard({ domain: initial, writable, onDeleted }: { domain: Domain; writable: boolean; onDeleted: () => void }) {
  const { t, date } = useI18n();
  const [domain, setDomain] = useState(initial);
  const [verification, setVerification] = useState<Verification | null>(null);
  const action = useAction();
  const titleId = `domain-${domain.id}`;
  const status = (s: string) => t(`domainStatus.${s}` as MessageKey);

  const verify = () =>
    void action.run(async () => {
      const result = await request(() => api.POST('/domains/{id}/verify', { params: { path: { id: domain.id } } }));
      setVerification(result);
      setDomain(result.domain);
      return t('domains.verifyResult', { status: status(result.status) });
    });
  const rotate = async () => {
    const rotated = await request(() => api.POST('/domains/{id}/rotate-dkim', { params: { path: { id: domain.id } } }));
    setDomain(rotated);
    setVerification(null);
    action.done(t('domains.rotated'));
  };
  const remove = async () => {
    await request(() => api.DELETE('/domains/{id}', { params: { path: { id: domain.id } } }));
    onDeleted();
  };

  return (
    <section className="card domain" aria-labelledby={titleId}>
      <div className="card-head">
        <h2 id={titleId} className="break">
          {domain.name}
        </h2>
        <span className={`badge badge-domain-${domain.status.toLowerCase()}`}>{status(domain.status)}</span>
        <span className="muted small">{domain.checkedAt ? t('domains.checked', { date: date(domain.checkedAt) }) : t('domains.notChecked')}</span>
      </div>
      <div className="table-scroll">
        <table className="table records stack">
          <caption>{t('domains.records', { name: domain.name })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('domains.purpose')}</th>
              <th scope="col">{t('domains.type')}</th>
              <th scope="col">{t('domains.host')}</th>
              <th scope="col">{t('domains.value')}</th>
              <th scope="col">{t('common.status')}</th>
            </tr>
          </thead>
          <tbody>
            {domain.records.map((record) => {
              const purpose = t(`purpose.${record.purpose}`);
              const reason = verification ? reasonOf(verification, record.purpose) : null;
              return (
                <tr key={`${record.purpose}-${record.host}`}>
                  <th scope="row">{purpose}</th>
                  <td data-label={t('domains.type')}>{record.type}</td>
                  <td data-label={t('domains.host')}>
                    <code className="dns-value">{record.host}</code>
                    <CopyButton text={record.host} label={t('domains.copyHost', { purpose })} />
                  </td>
                  <td data-label={t('domains.value')}>
                    <code className="dns-value">{record.value}</code>
                    <CopyButton text={record.value} label={t('domains.copyValue', { purpose })} />
                  </td>
                  <td data-label={t('common.status')}>
                    <span className={`badge badge-domain-${record.status.toLowerCase()}`}>{status(record.status)}</span>
                    {reason && (
                      <p className="small reason">
                        {t('domains.reason')}: {reason}
                      </p>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {writable && (
        <div className="row-actions">
          <button type="button" disabled={action.busy} onClick={verify}>
            {action.busy ? t('domains.verifying') : t('domains.verify')}
          </button>
          <ConfirmButton danger={false} label={t('domains.rotate')} question={t('domains.rotateConfirm', { name: domain.name })} onConfirm={rotate} />
          <ConfirmButton label={t('common.delete')} question={t('domains.deleteConfirm', { name: domain.name })} onConfirm={remove} />
        </div>
      )}
      <ActionFeedback action={action} />
    </section>
  );
}
