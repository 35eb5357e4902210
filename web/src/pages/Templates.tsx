import { useState } from 'react';
import { api, request } from '../api';
import { ErrorMessage, LoadState, PageTitle, TextField, useFormAction, useLoad } from '../components';
import { useI18n } from '../i18n';
import { Link, navigate, useLocation } from '../router';
import { canEdit, useSession } from '../session';

const LIMIT = 20;

/** Templates: the list (paged) and, for roles that hold templates:write, a form that creates one and opens its editor. */
export default function Templates() {
  const { t, number, date } = useI18n();
  const { role } = useSession();
  const { query } = useLocation();
  const page = Math.max(1, Number(query.get('page')) || 1);
  const { data, error, reload } = useLoad(() => request(() => api.GET('/templates', { params: { query: { page, limit: LIMIT } } })), [page]);
  const go = (next: number) => navigate(`/app/templates${next > 1 ? `?page=${next}` : ''}`);

  return (
    <section>
      <PageTitle>{t('templates.title')}</PageTitle>
      {canEdit(role) && <CreateTemplate />}
      <h2 id="templates-list">{t('templates.list')}</h2>
      <LoadState data={data} error={error} reload={reload} />
      {data && data.data.length === 0 && <p>{t('templates.empty')}</p>}
      {data && data.data.length > 0 && (
        <table className="table" aria-labelledby="templates-list">
          <thead>
            <tr>
              <th scope="col">{t('templates.name')}</th>
              <th scope="col">{t('templates.updated')}</th>
            </tr>
          </thead>
          <tbody>
            {data.data.map((template) => (
              <tr key={template.id}>
                <td>
                  <Link to={`/app/templates/${encodeURIComponent(template.id)}`}>{template.name}</Link>
                </td>
                <td>{date(template.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && data.meta.totalPages > 1 && (
        <nav className="paging" aria-label={t('paging.label')}>
          <button type="button" className="button-secondary" disabled={page <= 1} onClick={() => go(page - 1)}>
            {t('paging.previous')}
          </button>
          <span>{t('paging.page', { page: number(page), pages: number(data.meta.totalPages) })}</span>
          <button type="button" className="button-secondary" disabled={page >= data.meta.totalPages} onClick={() => go(page + 1)}>
            {t('paging.next')}
          </button>
        </nav>
      )}
    </section>
  );
}

function CreateTemplate() {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [locale, setLocale] = useState('en');
  const [subject, setSubject] = useState('');
  const [html, setHtml] = useState('');
  const { busy, error, onSubmit } = useFormAction(async () => {
    const template = await request(() =>
      api.POST('/templates', { body: { name, subject, htmlBody: html, ...(locale.trim() ? { locale: locale.trim() } : {}) } }),
    );
    navigate(`/app/templates/${encodeURIComponent(template.id)}`);
  });
  return (
    <details className="card create-card">
      <summary>{t('templates.create')}</summary>
      <form onSubmit={onSubmit}>
        <TextField id="new-template-name" label={t('templates.name')} value={name} onChange={setName} required maxLength={200} />
        <TextField id="new-template-locale" label={t('templates.firstLocale')} value={locale} onChange={setLocale} maxLength={35} />
        <TextField id="new-template-subject" label={t('editor.subject')} value={subject} onChange={setSubject} required maxLength={998} />
        <div className="field">
          <label htmlFor="new-template-html">{t('editor.html')}</label>
          <textarea id="new-template-html" className="code" rows={6} value={html} onChange={(e) => setHtml(e.target.value)} required />
        </div>
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? t('templates.creating') : t('templates.createSubmit')}
        </button>
      </form>
    </details>
  );
}
