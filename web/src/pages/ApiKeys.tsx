import { useState, type FormEvent } from 'react';
import { api, request } from '../api';
import { ActionFeedback, CodeChecklist, ConfirmButton, CopyButton, LoadState, PageTitle, TextField, useAction, useLoad } from '../components';
import { useI18n } from '../i18n';
import { scopesOf, type Scope } from '../scopes';
import { useSession } from '../session';
import { SettingsNav } from '../settings-nav';

/**
 * API keys of the tenant (keys:manage): list with scopes and last use, create
 * with the scopes the signed-in role holds (the secret shown once), revoke.
 */
export default function ApiKeys() {
  const { t, date } = useI18n();
  const { me, role } = useSession();
  const tenantId = me?.currentTenantId ?? '';
  const offered = scopesOf(role);
  const { data, error, reload } = useLoad(() => request(() => api.GET('/tenants/{id}/api-keys', { params: { path: { id: tenantId } } })), [tenantId]);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>([]);
  const [secret, setSecret] = useState<{ name: string; key: string } | null>(null);
  const [missing, setMissing] = useState(false);
  const action = useAction();

  const create = (event: FormEvent) => {
    event.preventDefault();
    if (scopes.length === 0) {
      setMissing(true);
      return;
    }
    setMissing(false);
    void action.run(async () => {
      const created = await request(() => api.POST('/tenants/{id}/api-keys', { params: { path: { id: tenantId } }, body: { name, scopes } }));
      setSecret({ name: created.name, key: created.apiKey });
      setName('');
      setScopes([]);
      reload();
    });
  };
  const revoke = async (id: string, keyName: string) => {
    await request(() => api.DELETE('/tenants/{id}/api-keys/{keyId}', { params: { path: { id: tenantId, keyId: id } } }));
    action.done(t('apiKeys.revokedStatus', { name: keyName }));
    reload();
  };

  return (
    <section>
      <SettingsNav />
      <PageTitle>{t('apiKeys.title')}</PageTitle>
      <p className="muted">{t('apiKeys.intro')}</p>
      {secret ? (
        <div className="card secret" role="region" aria-labelledby="secret-title">
          <h2 id="secret-title">{t('apiKeys.secretTitle')}</h2>
          <p className="warning-text">{t('apiKeys.secretOnce')}</p>
          <div className="secret-row">
            <label htmlFor="new-key">
              {t('apiKeys.secretLabel')}
            </label>
            <input id="new-key" className="secret-value" type="text" readOnly value={secret.key} onFocus={(e) => e.target.select()} />
            <CopyButton text={secret.key} />
          </div>
          <button type="button" onClick={() => setSecret(null)}>
            {t('apiKeys.done')}
          </button>
        </div>
      ) : (
        <form className="card form-card" aria-labelledby="key-new" onSubmit={create}>
          <h2 id="key-new">{t('apiKeys.new')}</h2>
          <TextField id="key-name" label={t('apiKeys.name')} maxLength={200} value={name} onChange={setName} />
          <CodeChecklist id="key-scopes" legend={t('apiKeys.scopesLegend')} options={offered} chosen={scopes} onChange={setScopes} missing={missing ? t('apiKeys.noScope') : undefined} />
          <button type="submit" disabled={action.busy}>
            {t('apiKeys.create')}
          </button>
        </form>
      )}
      <ActionFeedback action={action} />
      <LoadState data={data} error={error} reload={reload} />
      {data && data.data.length === 0 && <p>{t('apiKeys.empty')}</p>}
      {data && data.data.length > 0 && (
        <table className="table stack">
          <thead>
            <tr>
              <th scope="col">{t('apiKeys.name')}</th>
              <th scope="col">{t('apiKeys.prefix')}</th>
              <th scope="col">{t('apiKeys.scopes')}</th>
              <th scope="col">{t('common.created')}</th>
              <th scope="col">{t('apiKeys.lastUsed')}</th>
              <th scope="col">{t('common.status')}</th>
            </tr>
          </thead>
          <tbody>
            {data.data.map((key) => (
              <tr key={key.id}>
                <th scope="row" className="break">
                  {key.name || t('apiKeys.unnamed')}
                </th>
                <td data-label={t('apiKeys.prefix')}>
                  <code>{key.prefix}…</code>
                </td>
                <td className="scopes" data-label={t('apiKeys.scopes')}>
                  {key.scopes.map((scope) => (
                    <code key={scope}>{scope}</code>
                  ))}
                </td>
                <td data-label={t('common.created')}>{date(key.createdAt)}</td>
                <td data-label={t('apiKeys.lastUsed')}>{key.lastUsedAt ? date(key.lastUsedAt) : t('common.never')}</td>
                <td>
                  {key.revokedAt ? (
                    <span className="badge badge-cancelled">{t('apiKeys.revoked', { date: date(key.revokedAt) })}</span>
                  ) : (
                    <div className="row-actions">
                      <span className="badge badge-sent">{t('apiKeys.active')}</span>
                      <ConfirmButton
                        label={t('apiKeys.revoke')}
                        question={t('apiKeys.revokeConfirm', { name: key.name || key.prefix })}
                        onConfirm={() => revoke(key.id, key.name || key.prefix)}
                      />
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
