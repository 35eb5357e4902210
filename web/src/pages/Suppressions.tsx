import { useState } from 'react';
import { api, request, type Schemas } from '../api';
import { ActionFeedback, ConfirmButton, LoadState, PageTitle, TextField, useAction, useLoad } from '../components';
import { useI18n } from '../i18n';
import { can } from '../scopes';
import { useSession } from '../session';

type Reason = Schemas['/suppressions']['post']['requestBody']['content']['application/json']['reason'];
const REASONS: Reason[] = ['manual', 'bounce', 'complaint', 'unsubscribe'];
const LIMIT = 50;

/** Suppressed addresses in address order, search by prefix, cursor paging; add and remove for suppressions:write. */
export default function Suppressions() {
  const { t, date } = useI18n();
  const { role } = useSession();
  const writable = can(role, 'suppressions:write');
  // The cursors of the pages before this one (the first page has none).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const [search, setSearch] = useState('');
  const [q, setQ] = useState('');
  const { data, error, reload } = useLoad(
    () => request(() => api.GET('/suppressions', { params: { query: { limit: LIMIT, ...(cursor ? { cursor } : {}), ...(q ? { q } : {}) } } })),
    [cursor, q],
  );
  const find = (term: string) => {
    setSearch(term);
    setQ(term.trim());
    setCursors([undefined]);
  };
  const [email, setEmail] = useState('');
  const [reason, setReason] = useState<Reason>('manual');
  const action = useAction();

  const add = () =>
    void action.run(async () => {
      const added = await request(() => api.POST('/suppressions', { body: { email, reason } }));
      setEmail('');
      setCursors([undefined]);
      reload();
      return t('suppressions.added.status', { email: added.email });
    });
  const remove = async (address: string) => {
    await request(() => api.DELETE('/suppressions/{email}', { params: { path: { email: address } } }));
    action.done(t('suppressions.removed', { email: address }));
    reload();
  };

  return (
    <section>
      <PageTitle>{t('suppressions.title')}</PageTitle>
      <p className="muted">{t('suppressions.intro')}</p>
      {writable ? (
        <form
          className="inline-form"
          aria-labelledby="suppression-add"
          onSubmit={(e) => {
            e.preventDefault();
            add();
          }}
        >
          <h2 id="suppression-add">{t('suppressions.add')}</h2>
          <TextField id="suppression-email" label={t('suppressions.email')} type="email" required value={email} onChange={setEmail} />
          <div className="field">
            <label htmlFor="suppression-reason">{t('suppressions.reason')}</label>
            <select id="suppression-reason" value={reason} onChange={(e) => setReason(e.target.value as Reason)}>
              {REASONS.map((r) => (
                <option key={r} value={r}>
                  {t(`reason.${r}`)}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" disabled={action.busy}>
            {t('suppressions.addSubmit')}
          </button>
        </form>
      ) : (
        <p className="muted">{t('common.readOnly')}</p>
      )}
      <ActionFeedback action={action} />
      <form
        className="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          find(search);
        }}
      >
        <div className="row-actions">
          <label htmlFor="suppression-search">{t('suppressions.search')}</label>
          <input id="suppression-search" type="search" maxLength={254} value={search} onChange={(e) => setSearch(e.target.value)} />
          <button type="submit" className="button-secondary">
            {t('suppressions.searchSubmit')}
          </button>
          {q && (
            <button type="button" className="button-secondary" onClick={() => find('')}>
              {t('suppressions.clear')}
            </button>
          )}
        </div>
        <p className="muted small">{t('suppressions.order')}</p>
      </form>
      <LoadState data={data} error={error} reload={reload} />
      {data && data.data.length === 0 && <p>{q ? t('suppressions.noMatch', { q }) : t('suppressions.empty')}</p>}
      {data && data.data.length > 0 && (
        <table className="table stack">
          <thead>
            <tr>
              <th scope="col">{t('suppressions.email')}</th>
              <th scope="col">{t('suppressions.reason')}</th>
              <th scope="col">{t('suppressions.added')}</th>
              {writable && <th scope="col">{t('common.actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {data.data.map((row) => (
              <tr key={row.email}>
                <td className="break">{row.email}</td>
                <td data-label={t('suppressions.reason')}>{t(`reason.${row.reason}`)}</td>
                <td data-label={t('suppressions.added')}>{date(row.createdAt)}</td>
                {writable && (
                  <td>
                    <ConfirmButton label={t('suppressions.remove')} question={t('suppressions.removeConfirm', { email: row.email })} onConfirm={() => remove(row.email)} />
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && (cursors.length > 1 || data.meta.nextCursor) && (
        <nav className="paging" aria-label={t('paging.label')}>
          <button type="button" className="button-secondary" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
            {t('paging.previous')}
          </button>
          <button
            type="button"
            className="button-secondary"
            disabled={!data.meta.nextCursor}
            onClick={() => data.meta.nextCursor && setCursors((c) => [...c, data.meta.nextCursor ?? undefined])}
          >
            {t('paging.next')}
          </button>
        </nav>
      )}
    </section>
  );
}
