import { useEffect, useState, type FormEvent } from 'react';
import { api, request } from '../api';
import { LoadState, PageTitle, useLoad } from '../components';
import { useI18n } from '../i18n';
import { Link, navigate, useLocation } from '../router';
import { canEdit, useSession } from '../session';

const LIMIT = 50;

/**
 * Contacts: search (email or externalId prefix, indexed), locale and opt-in
 * filters (in the address), and keyset paging with the API's cursor — never a
 * page number or a count, so the page costs the same at a million contacts.
 * The cursors of the pages already seen are kept for "Previous".
 */
export default function Contacts() {
  const { t, date } = useI18n();
  const { role } = useSession();
  const { query } = useLocation();
  const q = query.get('q') ?? '';
  const locale = query.get('locale') ?? '';
  const optIn = query.get('optIn') ?? '';
  const filterKey = `${q}\u0000${locale}\u0000${optIn}`;
  // Cursors of the pages shown so far under these filters: the last is the current page's.
  const [cursors, setCursors] = useState<{ key: string; stack: string[] }>({ key: filterKey, stack: [''] });
  const stack = cursors.key === filterKey ? cursors.stack : [''];
  const cursor = stack[stack.length - 1]!;
  const { data, error, reload } = useLoad(
    () =>
      request(() =>
        api.GET('/contacts', {
          params: {
            query: {
              // `page` is ignored once `cursor` is given (the schema requires it).
              page: 1,
              cursor,
              limit: LIMIT,
              ...(q ? { q } : {}),
              ...(locale ? { locale } : {}),
              ...(optIn ? { optIn: optIn === 'true' } : {}),
            },
          },
        }),
      ),
    [filterKey, cursor],
  );
  const nextCursor = data && 'nextCursor' in data.meta ? data.meta.nextCursor : null;

  const [draft, setDraft] = useState({ q, locale, optIn });
  // The form follows the address (a nav link, Back, Forward).
  useEffect(() => setDraft({ q, locale, optIn }), [q, locale, optIn]);
  const apply = (event: FormEvent) => {
    event.preventDefault();
    const params = new URLSearchParams();
    if (draft.q.trim()) params.set('q', draft.q.trim());
    if (draft.locale.trim()) params.set('locale', draft.locale.trim());
    if (draft.optIn) params.set('optIn', draft.optIn);
    const search = params.toString();
    navigate(`/app/contacts${search ? `?${search}` : ''}`);
  };

  return (
    <section>
      <PageTitle>{t('contacts.title')}</PageTitle>
      {query.get('erased') === '1' && (
        <p role="status" className="alert alert-ok">
          {t('contacts.erased')}
        </p>
      )}
      {canEdit(role) && (
        <p>
          <Link to="/app/contacts/import" className="button-link">
            {t('contacts.import')}
          </Link>
        </p>
      )}
      <form className="filters" role="search" aria-label={t('contacts.searchLabel')} onSubmit={apply}>
        <div className="field">
          <label htmlFor="contacts-q">{t('contacts.search')}</label>
          <input id="contacts-q" type="search" value={draft.q} maxLength={320} onChange={(e) => setDraft({ ...draft, q: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="contacts-locale">{t('contacts.locale')}</label>
          <input id="contacts-locale" type="text" value={draft.locale} maxLength={35} placeholder="es-MX" onChange={(e) => setDraft({ ...draft, locale: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="contacts-optin">{t('contacts.optIn')}</label>
          <select id="contacts-optin" value={draft.optIn} onChange={(e) => setDraft({ ...draft, optIn: e.target.value })}>
            <option value="">{t('contacts.any')}</option>
            <option value="true">{t('contacts.optedIn')}</option>
            <option value="false">{t('contacts.notOptedIn')}</option>
          </select>
        </div>
        <button type="submit">{t('contacts.apply')}</button>
      </form>
      <LoadState data={data} error={error} reload={reload} />
      {data && data.data.length === 0 && <p role="status">{t('contacts.empty')}</p>}
      {data && data.data.length > 0 && (
        <table className="table">
          <caption className="sr-live">{t('contacts.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('contacts.email')}</th>
              <th scope="col">{t('contacts.externalId')}</th>
              <th scope="col">{t('contacts.locale')}</th>
              <th scope="col">{t('contacts.optIn')}</th>
              <th scope="col">{t('contacts.updated')}</th>
            </tr>
          </thead>
          <tbody>
            {data.data.map((contact) => (
              <tr key={contact.id}>
                <td>
                  <Link to={`/app/contacts/${encodeURIComponent(contact.id)}`}>{contact.email}</Link>
                </td>
                <td>{contact.externalId ?? '—'}</td>
                <td>{contact.locale ?? '—'}</td>
                <td>{contact.optIn ? t('contacts.yes') : t('contacts.no')}</td>
                <td>{date(contact.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && (stack.length > 1 || nextCursor) && (
        <nav className="paging" aria-label={t('paging.label')}>
          <button type="button" className="button-secondary" disabled={stack.length <= 1} onClick={() => setCursors({ key: filterKey, stack: stack.slice(0, -1) })}>
            {t('paging.previous')}
          </button>
          <span>{t('contacts.pageNumber', { page: stack.length })}</span>
          <button type="button" className="button-secondary" disabled={!nextCursor} onClick={() => nextCursor && setCursors({ key: filterKey, stack: [...stack, nextCursor] })}>
            {t('paging.next')}
          </button>
        </nav>
      )}
    </section>
  );
}
