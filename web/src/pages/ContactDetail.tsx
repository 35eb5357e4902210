import { useState, type FormEvent } from 'react';
import { api, request, type Contact } from '../api';
import { ErrorMessage, Loading, LoadState, PageTitle, TextField, useLoad } from '../components';
import { useI18n } from '../i18n';
import { Link, navigate } from '../router';
import { canEdit, useSession } from '../session';

const MESSAGES_LIMIT = 20;

/** A contact: its fields and attributes, the messages it received, edit (PATCH) and GDPR erase (DELETE). */
export default function ContactDetail({ id }: { id: string }) {
  const { t } = useI18n();
  const { role } = useSession();
  const { data: contact, error, reload } = useLoad(() => request(() => api.GET('/contacts/{id}', { params: { path: { id } } })), [id]);
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState<Contact | undefined>(undefined);
  const shown = saved?.id === contact?.id && saved ? saved : contact;

  if (error) {
    return (
      <section>
        <Link to="/app/contacts">{t('contact.back')}</Link>
        <ErrorMessage error={error} onRetry={reload} />
      </section>
    );
  }
  if (!shown) return <Loading />;
  const editable = canEdit(role);

  return (
    <section>
      <p>
        <Link to="/app/contacts">{t('contact.back')}</Link>
      </p>
      <PageTitle>{shown.email}</PageTitle>
      {editing ? (
        <ContactForm
          contact={shown}
          onDone={(next) => {
            if (next) setSaved(next);
            setEditing(false);
          }}
        />
      ) : (
        <>
          <dl className="facts">
            <div>
              <dt>{t('contacts.externalId')}</dt>
              <dd>{shown.externalId ?? '—'}</dd>
            </div>
            <div>
              <dt>{t('contacts.locale')}</dt>
              <dd>{shown.locale ?? '—'}</dd>
            </div>
            <div>
              <dt>{t('contacts.optIn')}</dt>
              <dd>{shown.optIn ? t('contacts.yes') : t('contacts.no')}</dd>
            </div>
            <div>
              <dt>{t('contact.source')}</dt>
              <dd>{shown.source ?? '—'}</dd>
            </div>
          </dl>
          <h2 id="attributes-title">{t('contact.attributes')}</h2>
          {Object.keys(shown.attributes).length === 0 ? (
            <p className="muted">{t('contact.noAttributes')}</p>
          ) : (
            <table className="table" aria-labelledby="attributes-title">
              <thead>
                <tr>
                  <th scope="col">{t('contact.attribute')}</th>
                  <th scope="col">{t('contact.value')}</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(shown.attributes).map(([key, value]) => (
                  <tr key={key}>
                    <th scope="row">{key}</th>
                    <td className="pre-wrap">{typeof value === 'string' ? value : JSON.stringify(value)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {editable && (
            <p className="actions">
              <button type="button" onClick={() => setEditing(true)}>
                {t('contact.edit')}
              </button>
            </p>
          )}
        </>
      )}
      <Messages id={shown.id} />
      {editable && <Erase contact={shown} />}
    </section>
  );
}

interface AttributeRow {
  key: string;
  value: string;
  /** A value that was not a string: edited as JSON. */
  json: boolean;
}

function ContactForm({ contact, onDone }: { contact: Contact; onDone: (saved?: Contact) => void }) {
  const { t } = useI18n();
  const [locale, setLocale] = useState(contact.locale ?? '');
  const [optIn, setOptIn] = useState(contact.optIn);
  const [rows, setRows] = useState<AttributeRow[]>(() =>
    Object.entries(contact.attributes).map(([key, value]) =>
      typeof value === 'string' ? { key, value, json: false } : { key, value: JSON.stringify(value), json: true },
    ),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [invalid, setInvalid] = useState<string | undefined>(undefined);
  const setRow = (index: number, change: Partial<AttributeRow>) => setRows(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setInvalid(undefined);
    const attributes: Record<string, unknown> = {};
    for (const row of rows) {
      const key = row.key.trim();
      if (!key) continue;
      if (row.json) {
        try {
          attributes[key] = JSON.parse(row.value) as unknown;
        } catch {
          setInvalid(t('contact.invalidJson', { key }));
          return;
        }
      } else attributes[key] = row.value;
    }
    setBusy(true);
    setError(undefined);
    try {
      const saved = await request(() =>
        api.PATCH('/contacts/{id}', { params: { path: { id: contact.id } }, body: { locale: locale.trim() || null, optIn, attributes } }),
      );
      onDone(saved);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <form className="card" onSubmit={(e) => void submit(e)} aria-labelledby="edit-title">
      <h2 id="edit-title">{t('contact.editTitle')}</h2>
      <TextField id="contact-locale" label={t('contacts.locale')} value={locale} onChange={setLocale} maxLength={35} />
      <div className="field choice">
        <input id="contact-optin" type="checkbox" checked={optIn} onChange={(e) => setOptIn(e.target.checked)} />
        <label htmlFor="contact-optin">{t('contact.optInLabel')}</label>
      </div>
      <fieldset className="field">
        <legend>{t('contact.attributes')}</legend>
        {rows.map((row, index) => (
          <div className="attribute-row" key={index}>
            <TextField id={`attr-key-${index}`} label={t('contact.attributeName', { n: index + 1 })} value={row.key} onChange={(key) => setRow(index, { key })} maxLength={128} />
            <TextField
              id={`attr-value-${index}`}
              label={row.json ? t('contact.attributeJson', { n: index + 1 }) : t('contact.attributeValue', { n: index + 1 })}
              value={row.value}
              onChange={(value) => setRow(index, { value })}
            />
            <button type="button" className="button-secondary" onClick={() => setRows(rows.filter((_, i) => i !== index))}>
              {t('contact.removeAttribute', { n: index + 1 })}
            </button>
          </div>
        ))}
        <p>
          <button type="button" className="button-secondary" onClick={() => setRows([...rows, { key: '', value: '', json: false }])}>
            {t('contact.addAttribute')}
          </button>
        </p>
      </fieldset>
      {invalid && (
        <p role="alert" className="alert alert-error">
          {invalid}
        </p>
      )}
      <ErrorMessage error={error} />
      <div className="button-row">
        <button type="submit" disabled={busy}>
          {busy ? t('contact.saving') : t('contact.save')}
        </button>
        <button type="button" className="button-secondary" onClick={() => onDone()}>
          {t('contact.cancel')}
        </button>
      </div>
    </form>
  );
}

/** The messages a contact received, campaign and transactional, newest first. */
function Messages({ id }: { id: string }) {
  const { t, date, number } = useI18n();
  const [page, setPage] = useState(1);
  const { data, error, reload } = useLoad(
    () => request(() => api.GET('/contacts/{id}/messages', { params: { path: { id }, query: { page, limit: MESSAGES_LIMIT } } })),
    [id, page],
  );
  return (
    <>
      <h2 id="messages-title">{t('contact.messages')}</h2>
      <LoadState data={data} error={error} reload={reload} />
      {data && data.data.length === 0 && <p className="muted">{t('contact.noMessages')}</p>}
      {data && data.data.length > 0 && (
        <table className="table" aria-labelledby="messages-title">
          <thead>
            <tr>
              <th scope="col">{t('contact.messageWhat')}</th>
              <th scope="col">{t('contact.messageKind')}</th>
              <th scope="col">{t('contact.messageStatus')}</th>
              <th scope="col">{t('contacts.locale')}</th>
              <th scope="col">{t('contact.messageDate')}</th>
            </tr>
          </thead>
          <tbody>
            {data.data.map((message) => (
              <tr key={message.id}>
                <td>
                  {message.campaign ? (
                    <Link to={`/app/campaigns/${encodeURIComponent(message.campaign.id)}`}>{message.campaign.name}</Link>
                  ) : (
                    (message.email?.subject ?? '—')
                  )}
                </td>
                <td>{message.stream === 'campaign' ? t('contact.streamCampaign') : t('contact.streamTransactional')}</td>
                <td>
                  <span className={`badge badge-${message.status.toLowerCase()}`}>{t(`message.${message.status}`)}</span>
                </td>
                <td>{message.locale ?? '—'}</td>
                <td>{date(message.sentAt ?? message.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && data.meta.totalPages > 1 && (
        <nav className="paging" aria-label={t('contact.messagesPaging')}>
          <button type="button" className="button-secondary" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            {t('paging.previous')}
          </button>
          <span>{t('paging.page', { page: number(page), pages: number(data.meta.totalPages) })}</span>
          <button type="button" className="button-secondary" disabled={page >= data.meta.totalPages} onClick={() => setPage(page + 1)}>
            {t('paging.next')}
          </button>
        </nav>
      )}
    </>
  );
}

/** GDPR erase: the person types the contact's email to confirm; DELETE then back to the list. */
function Erase({ contact }: { contact: Contact }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const matches = typed.trim().toLowerCase() === contact.email.toLowerCase();

  const erase = async (event: FormEvent) => {
    event.preventDefault();
    if (!matches) return;
    setBusy(true);
    setError(undefined);
    try {
      await request(() => api.DELETE('/contacts/{id}', { params: { path: { id: contact.id } } }));
      navigate(`/app/contacts?erased=1`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <>
      <h2>{t('contact.eraseTitle')}</h2>
      {!open ? (
        <p>
          <button type="button" className="button-danger" onClick={() => setOpen(true)}>
            {t('contact.erase')}
          </button>
        </p>
      ) : (
        <form className="confirm confirm-danger" onSubmit={(e) => void erase(e)} aria-labelledby="erase-warning">
          <p id="erase-warning">{t('contact.eraseWarning', { email: contact.email })}</p>
          <TextField id="erase-confirm" label={t('contact.eraseType', { email: contact.email })} value={typed} onChange={setTyped} autoComplete="off" />
          <button type="submit" className="button-danger" disabled={!matches || busy}>
            {t('contact.eraseConfirm')}
          </button>
          <button type="button" className="button-secondary" onClick={() => setOpen(false)}>
            {t('contact.cancel')}
          </button>
          <ErrorMessage error={error} />
        </form>
      )}
    </>
  );
}
