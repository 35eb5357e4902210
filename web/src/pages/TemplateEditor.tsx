import { useEffect, useRef, useState, type FormEvent } from 'react';
import { detectVariables } from '../../../src/templates/detect-variables';
import { api, ApiError, errorMessage, request, type Template, type TemplateVersion } from '../api';
import { ErrorMessage, Loading, PageTitle, TextField, useLoad } from '../components';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { canEdit, useSession } from '../session';

/** How long typing must pause before a draft is saved (and so previewed again). */
const AUTOSAVE_MS = 1200;
const PREVIEW_DEBOUNCE_MS = 400;

interface Sample {
  contactId?: string;
  contactEmail?: string;
  data?: Record<string, unknown>;
}

/**
 * A template's editor (its own chunk). A revision is a locale group: the
 * anchor version (localeGroupId null) and its variants (localeGroupId = the
 * anchor), shown side by side, each with subject, HTML and text, the
 * variables it reads, publish/unpublish and a live preview rendered by the
 * API (POST …/preview) with a sample contact and attributes, shown only in a
 * sandboxed iframe (no scripts, opaque origin).
 */
export default function TemplateEditor({ id }: { id: string }) {
  const { t, date } = useI18n();
  const { role } = useSession();
  const { data: template, error, reload } = useLoad(() => request(() => api.GET('/templates/{id}', { params: { path: { id } } })), [id]);
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const [sample, setSample] = useState<Sample>({});
  const [actionError, setActionError] = useState<unknown>(undefined);

  if (error && !template) {
    return (
      <section>
        <Link to="/app/templates">{t('editor.back')}</Link>
        <ErrorMessage error={error} onRetry={reload} />
      </section>
    );
  }
  if (!template) return <Loading />;

  const anchors = template.versions.filter((v) => v.localeGroupId === null).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const anchor = anchors.find((v) => v.id === chosen) ?? anchors[0];
  const variants = anchor ? [anchor, ...template.versions.filter((v) => v.localeGroupId === anchor.id).sort((a, b) => (a.locale ?? '').localeCompare(b.locale ?? '') || a.createdAt.localeCompare(b.createdAt))] : [];
  const editable = canEdit(role);

  const act = async (call: () => Promise<unknown>) => {
    setActionError(undefined);
    try {
      await call();
      reload();
    } catch (err) {
      setActionError(err);
    }
  };
  const newRevision = () =>
    act(async () => {
      const version = await request(() => api.POST('/templates/{id}/versions', { params: { path: { id } }, body: { fromVersionId: anchor!.id, localeGroupId: null } }));
      setChosen(version.id);
    });

  return (
    <section>
      <p>
        <Link to="/app/templates">{t('editor.back')}</Link>
      </p>
      <PageTitle>{template.name}</PageTitle>
      <div className="toolbar">
        {anchors.length > 0 && (
          <label className="inline-field">
            <span>{t('editor.revision')}</span>
            <select value={anchor?.id ?? ''} onChange={(e) => setChosen(e.target.value)}>
              {anchors.map((v, index) => (
                <option key={v.id} value={v.id}>
                  {t('editor.revisionOption', { n: anchors.length - index, date: date(v.createdAt) })}
                </option>
              ))}
            </select>
          </label>
        )}
        {editable && anchor && (
          <button type="button" className="button-secondary" onClick={() => void newRevision()}>
            {t('editor.newRevision')}
          </button>
        )}
      </div>
      <ErrorMessage error={actionError ?? error} />
      <SampleControls onChange={setSample} />
      <div className="variants">
        {variants.map((version) => (
          <VariantEditor key={version.id} template={template} version={version} sample={sample} onChanged={reload} />
        ))}
      </div>
      {editable && anchor && <AddVariant templateId={id} anchor={anchor} onAdded={reload} />}
    </section>
  );
}

/** The sample the previews render with: a contact found by email or externalId prefix, and attributes (JSON) that override its own. */
function SampleControls({ onChange }: { onChange: (sample: Sample) => void }) {
  const { t } = useI18n();
  const [query, setQuery] = useState('');
  const [contact, setContact] = useState<{ id: string; email: string } | undefined>(undefined);
  const [json, setJson] = useState('{\n  "first_name": "Ana"\n}');
  const [invalid, setInvalid] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [notFound, setNotFound] = useState(false);

  useEffect(() => {
    let data: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = json.trim() ? JSON.parse(json) : {};
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      data = parsed as Record<string, unknown>;
      setInvalid(false);
    } catch {
      setInvalid(true);
      return;
    }
    onChange({ ...(contact ? { contactId: contact.id, contactEmail: contact.email } : {}), ...(Object.keys(data).length > 0 ? { data } : {}) });
  }, [json, contact, onChange]);

  const find = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setNotFound(false);
    if (!query.trim()) {
      setContact(undefined);
      return;
    }
    try {
      const found = await request(() => api.GET('/contacts', { params: { query: { q: query.trim(), page: 1, limit: 1 } } }));
      const first = found.data[0];
      setContact(first ? { id: first.id, email: first.email } : undefined);
      setNotFound(!first);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <div className="card sample">
      <h2>{t('editor.sample')}</h2>
      <form className="inline-form" onSubmit={(e) => void find(e)}>
        <TextField id="sample-contact" label={t('editor.sampleContact')} value={query} onChange={setQuery} maxLength={320} />
        <button type="submit" className="button-secondary">
          {t('editor.sampleUse')}
        </button>
      </form>
      <p role="status" className="muted">
        {contact ? t('editor.sampleUsing', { email: contact.email }) : notFound ? t('editor.sampleNotFound') : t('editor.sampleNone')}
      </p>
      <ErrorMessage error={error} />
      <div className="field">
        <label htmlFor="sample-data">{t('editor.sampleData')}</label>
        <textarea id="sample-data" className="code" rows={4} value={json} onChange={(e) => setJson(e.target.value)} aria-invalid={invalid} />
      </div>
      {invalid && <p className="warning-text">{t('editor.sampleInvalid')}</p>}
    </div>
  );
}

interface Fields {
  subject: string;
  htmlBody: string;
  textBody: string;
}

const fieldsOf = (version: TemplateVersion): Fields => ({ subject: version.subject, htmlBody: version.htmlBody, textBody: version.textBody ?? '' });
const sameFields = (a: Fields, b: Fields) => a.subject === b.subject && a.htmlBody === b.htmlBody && a.textBody === b.textBody;

/** Unsaved edits live in localStorage (per template and version) until the API has saved them. */
const storageKey = (templateId: string, versionId: string) => `mc.template-edits.${templateId}.${versionId}`;
function readEdits(key: string): Fields | undefined {
  try {
    const raw = localStorage.getItem(key);
    if (!raw) return undefined;
    const value = JSON.parse(raw) as Partial<Fields>;
    if (typeof value.subject === 'string' && typeof value.htmlBody === 'string' && typeof value.textBody === 'string') {
      return { subject: value.subject, htmlBody: value.htmlBody, textBody: value.textBody };
    }
  } catch {
    // unreadable: ignored
  }
  return undefined;
}
function writeEdits(key: string, fields: Fields | undefined): void {
  try {
    if (fields) localStorage.setItem(key, JSON.stringify(fields));
    else localStorage.removeItem(key);
  } catch {
    // storage full or disabled: the edits stay on screen only
  }
}

function VariantEditor({ template, version, sample, onChanged }: { template: Template; version: TemplateVersion; sample: Sample; onChanged: () => void }) {
  const { t } = useI18n();
  const { role } = useSession();
  const key = storageKey(template.id, version.id);
  // Kept edits apply to a draft this role can save; a published variant (or a viewer) sees the stored version.
  const canSave = canEdit(role) && version.status === 'DRAFT';
  const [restored] = useState(() => canSave && readEdits(key) !== undefined);
  const [fields, setFields] = useState<Fields>(() => (canSave ? readEdits(key) : undefined) ?? fieldsOf(version));
  const [saved, setSaved] = useState<Fields>(() => fieldsOf(version));
  const [savedCount, setSavedCount] = useState(0);
  const [save, setSave] = useState<{ busy: boolean; error: unknown; ok: boolean }>({ busy: false, error: undefined, ok: false });
  const [actionError, setActionError] = useState<unknown>(undefined);
  const current = useRef(fields);
  current.current = fields;
  const editable = canEdit(role) && version.status === 'DRAFT';
  const dirty = !sameFields(fields, saved);
  const locale = version.locale ?? t('editor.noLocale');
  const frozen = save.error instanceof ApiError && save.error.code === 'VERSION_FROZEN';

  const change = (next: Partial<Fields>) => {
    const merged = { ...fields, ...next };
    setFields(merged);
    writeEdits(key, merged);
    setSave((s) => ({ ...s, ok: false }));
  };

  const doSave = async () => {
    const snapshot = current.current;
    setSave({ busy: true, error: undefined, ok: false });
    try {
      const result = await request(() =>
        api.PATCH('/templates/{id}/versions/{versionId}', {
          params: { path: { id: template.id, versionId: version.id } },
          body: { subject: snapshot.subject, htmlBody: snapshot.htmlBody, textBody: snapshot.textBody || null },
        }),
      );
      const stored = fieldsOf(result);
      setSaved(stored);
      if (sameFields(current.current, snapshot)) writeEdits(key, undefined);
      setSavedCount((n) => n + 1);
      setSave({ busy: false, error: undefined, ok: true });
    } catch (error) {
      setSave({ busy: false, error, ok: false });
    }
  };

  // Autosave: a draft is saved once typing pauses, so the preview follows the edits.
  useEffect(() => {
    if (!editable || !dirty) return;
    const timer = setTimeout(() => void doSave(), AUTOSAVE_MS);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [fields, editable]);

  const act = async (call: () => Promise<unknown>) => {
    setActionError(undefined);
    try {
      await call();
      onChanged();
    } catch (err) {
      setActionError(err);
    }
  };
  const path = { id: template.id, versionId: version.id };
  const variables = detectVariables(fields.subject, fields.htmlBody, fields.textBody);

  return (
    <section className="variant card" aria-labelledby={`variant-${version.id}`}>
      <h2 id={`variant-${version.id}`}>
        {t('editor.variant', { locale })}{' '}
        <span className={`badge badge-${version.status === 'PUBLISHED' ? 'sent' : 'draft'}`}>
          {version.status === 'PUBLISHED' ? t('editor.published') : t('editor.draft')}
        </span>
      </h2>
      {restored && dirty && <p className="alert alert-warning">{t('editor.restored')}</p>}
      <div className="field">
        <label htmlFor={`subject-${version.id}`}>{t('editor.subjectFor', { locale })}</label>
        <input id={`subject-${version.id}`} type="text" value={fields.subject} readOnly={!editable} maxLength={998} onChange={(e) => change({ subject: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor={`html-${version.id}`}>{t('editor.htmlFor', { locale })}</label>
        <textarea id={`html-${version.id}`} className="code" rows={10} value={fields.htmlBody} readOnly={!editable} spellCheck={false} onChange={(e) => change({ htmlBody: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor={`text-${version.id}`}>{t('editor.textFor', { locale })}</label>
        <textarea id={`text-${version.id}`} className="code" rows={4} value={fields.textBody} readOnly={!editable} spellCheck={false} onChange={(e) => change({ textBody: e.target.value })} />
        <span className="muted small">{t('editor.textHint')}</span>
      </div>
      <div className="variables">
        <h3 id={`vars-${version.id}`}>{t('editor.variables')}</h3>
        {variables.length === 0 ? (
          <p className="muted small">{t('editor.noVariables')}</p>
        ) : (
          <ul aria-labelledby={`vars-${version.id}`}>
            {variables.map((name) => (
              <li key={name}>
                <code>{name}</code>
              </li>
            ))}
          </ul>
        )}
      </div>
      <p role="status" className="small save-status">
        {save.busy ? t('editor.saving') : dirty ? t('editor.unsaved') : save.ok ? t('editor.saved') : ''}
      </p>
      {save.error !== undefined && (
        <div className="alert alert-error" role="alert">
          <p>{t('editor.notSaved')}</p>
          <p>{errorMessage(save.error, t)}</p>
        </div>
      )}
      <ErrorMessage error={actionError} />
      {canEdit(role) && (
        <div className="button-row">
          {editable && (
            <button type="button" disabled={save.busy || !dirty} onClick={() => void doSave()}>
              {t('editor.save', { locale })}
            </button>
          )}
          {version.status === 'DRAFT' && !frozen && (
            <button type="button" className="button-secondary" disabled={dirty} onClick={() => void act(() => request(() => api.POST('/templates/{id}/versions/{versionId}/publish', { params: { path } })))}>
              {t('editor.publish', { locale })}
            </button>
          )}
          {version.status === 'PUBLISHED' && (
            <button type="button" className="button-secondary" onClick={() => void act(() => request(() => api.POST('/templates/{id}/versions/{versionId}/unpublish', { params: { path } })))}>
              {t('editor.unpublish', { locale })}
            </button>
          )}
          {(version.status === 'PUBLISHED' || frozen) && (
            <button type="button" className="button-secondary" onClick={() => void act(() => request(() => api.POST('/templates/{id}/versions', { params: { path: { id: template.id } }, body: { fromVersionId: version.id } })))}>
              {t('editor.newDraft', { locale })}
            </button>
          )}
        </div>
      )}
      <Preview templateId={template.id} version={version} locale={locale} sample={sample} revision={`${savedCount}:${version.updatedAt}`} />
    </section>
  );
}

/** The API's rendering of the saved version, debounced; the HTML only ever inside a sandboxed iframe. */
function Preview({ templateId, version, locale, sample, revision }: { templateId: string; version: TemplateVersion; locale: string; sample: Sample; revision: string }) {
  const { t } = useI18n();
  const [state, setState] = useState<{ preview?: { subject: string; html: string; text: string }; error: unknown; busy: boolean }>({ error: undefined, busy: true });
  const sampleKey = JSON.stringify(sample);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, busy: true }));
    const timer = setTimeout(() => {
      request(() =>
        api.POST('/templates/{id}/versions/{versionId}/preview', {
          params: { path: { id: templateId, versionId: version.id } },
          body: { ...(sample.contactId ? { contactId: sample.contactId } : {}), ...(sample.data ? { data: sample.data } : {}) },
        }),
      ).then(
        (preview) => live && setState({ preview, error: undefined, busy: false }),
        (error: unknown) => live && setState((s) => ({ preview: s.preview, error, busy: false })),
      );
    }, PREVIEW_DEBOUNCE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [templateId, version.id, revision, sampleKey]);

  return (
    <div className="preview">
      <h3 id={`preview-${version.id}`}>{t('editor.preview', { locale })}</h3>
      <p className="muted small">{t('editor.previewHint')}</p>
      <ErrorMessage error={state.error} />
      {state.preview ? (
        <>
          <p className="preview-subject">
            <span className="muted">{t('editor.previewSubject')}</span> {state.preview.subject}
          </p>
          <iframe className="preview-frame" sandbox="" srcDoc={state.preview.html} title={t('editor.previewFrame', { locale })} />
          <details>
            <summary>{t('editor.previewText')}</summary>
            <pre className="preview-text">{state.preview.text}</pre>
          </details>
        </>
      ) : (
        !state.error && <Loading />
      )}
    </div>
  );
}

function AddVariant({ templateId, anchor, onAdded }: { templateId: string; anchor: TemplateVersion; onAdded: () => void }) {
  const { t } = useI18n();
  const [locale, setLocale] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await request(() =>
        api.POST('/templates/{id}/versions', { params: { path: { id: templateId } }, body: { fromVersionId: anchor.id, localeGroupId: anchor.id, locale: locale.trim() } }),
      );
      setLocale('');
      onAdded();
    } catch (err) {
      setError(err);
    }
    setBusy(false);
  };
  return (
    <form className="card inline-form add-variant" onSubmit={(e) => void submit(e)}>
      <TextField id="new-variant-locale" label={t('editor.addVariantLocale')} value={locale} onChange={setLocale} required maxLength={35} placeholder="es" />
      <button type="submit" disabled={busy || !locale.trim()}>
        {t('editor.addVariant')}
      </button>
      <ErrorMessage error={error} />
    </form>
  );
}
