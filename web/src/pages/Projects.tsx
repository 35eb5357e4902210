import { useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage, request, type Schemas } from '../api';
import { ActionFeedback, ConfirmButton, ErrorMessage, LoadState, PageTitle, TextField, useAction, useLoad } from '../components';
import { useI18n } from '../i18n';
import { can } from '../scopes';
import { useSession } from '../session';
import { SettingsNav } from '../settings-nav';

type Project = Schemas['/projects/{id}']['get']['responses'][200]['content']['application/json'];

/**
 * SMTP projects: list, create, edit, verify, delete. The password is write-only:
 * the API answers `hasPassword` and never the password, and the form leaves the
 * password field empty ("set" — type a new one to replace it).
 */
export default function Projects() {
  const { t } = useI18n();
  const { role } = useSession();
  const writable = can(role, 'projects:write');
  const { data, error, reload } = useLoad(() => request(() => api.GET('/projects', { params: { query: { page: 1, limit: 100 } } })), []);
  const [editing, setEditing] = useState<Project | 'new' | null>(null);
  const [verifying, setVerifying] = useState<string | null>(null);
  const [verified, setVerified] = useState<{ id: string; ok: boolean; text: string } | null>(null);
  const action = useAction();

  const verify = async (project: Project) => {
    setVerifying(project.id);
    setVerified(null);
    const ok = await action.run(async () => {
      const result = await request(() => api.POST('/projects/{id}/verify', { params: { path: { id: project.id } } }));
      setVerified({
        id: project.id,
        ok: result.ok,
        text: result.ok ? t('projects.verifyOk', { name: project.name }) : t('projects.verifyFailed', { name: project.name, error: result.error ?? '' }),
      });
    });
    if (!ok) setVerified(null);
    setVerifying(null);
  };
  const remove = async (project: Project) => {
    await request(() => api.DELETE('/projects/{id}', { params: { path: { id: project.id } } }));
    action.done(t('projects.deleted', { name: project.name }));
    reload();
  };

  return (
    <section>
      <SettingsNav />
      <PageTitle>{t('projects.title')}</PageTitle>
      <p className="muted">{t('projects.intro')}</p>
      {!writable && <p className="muted">{t('common.readOnly')}</p>}
      {writable && editing === null && (
        <p>
          <button type="button" onClick={() => setEditing('new')}>
            {t('projects.new')}
          </button>
        </p>
      )}
      {writable && editing !== null && (
        <ProjectForm
          key={editing === 'new' ? 'new' : editing.id}
          project={editing === 'new' ? undefined : editing}
          onCancel={() => setEditing(null)}
          onSaved={(saved) => {
            setEditing(null);
            action.done(t('projects.saved', { name: saved.name }));
            reload();
          }}
        />
      )}
      <ActionFeedback action={action} />
      {verified && (
        <p role="status" className={`alert ${verified.ok ? 'alert-ok' : 'alert-error'}`}>
          {verified.text}
        </p>
      )}
      <LoadState data={data} error={error} reload={reload} />
      {data && data.data.length === 0 && <p>{t('projects.empty')}</p>}
      {data && data.data.length > 0 && (
        <table className="table stack">
          <thead>
            <tr>
              <th scope="col">{t('projects.name')}</th>
              <th scope="col">{t('projects.server')}</th>
              <th scope="col">{t('projects.user')}</th>
              <th scope="col">{t('projects.hasPassword')}</th>
              <th scope="col">{t('projects.from')}</th>
              {writable && <th scope="col">{t('common.actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {data.data.map((project) => (
              <tr key={project.id}>
                <th scope="row" className="break">
                  {project.name}
                </th>
                <td className="break" data-label={t('projects.server')}>
                  {project.smtp.host}:{project.smtp.port} · {project.smtp.secure ? 'TLS' : 'STARTTLS'}
                </td>
                <td className="break" data-label={t('projects.user')}>{project.smtp.user ?? '—'}</td>
                <td data-label={t('projects.hasPassword')}>{project.smtp.hasPassword ? t('projects.set') : t('projects.notSet')}</td>
                <td className="break" data-label={t('projects.from')}>
                  {project.fromName ? `${project.fromName} <${project.fromEmail}>` : project.fromEmail}
                </td>
                {writable && (
                  <td>
                    <div className="row-actions">
                      <button type="button" className="button-secondary" disabled={verifying !== null} onClick={() => void verify(project)}>
                        {verifying === project.id ? t('projects.verifying') : t('projects.verify')}
                      </button>
                      <button type="button" className="button-secondary" onClick={() => setEditing(project)}>
                        {t('projects.edit')}
                      </button>
                      <ConfirmButton label={t('common.delete')} question={t('projects.deleteConfirm', { name: project.name })} onConfirm={() => remove(project)} />
                    </div>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The error of one field (an ApiError whose details name it), shown under that field. */
export function fieldError(error: unknown, field: string): ApiError | undefined {
  return error instanceof ApiError && error.fields.includes(field) ? error : undefined;
}

function ProjectForm({ project, onCancel, onSaved }: { project: Project | undefined; onCancel: () => void; onSaved: (p: Project) => void }) {
  const { t } = useI18n();
  const [name, setName] = useState(project?.name ?? '');
  const [host, setHost] = useState(project?.smtp.host ?? '');
  const [port, setPort] = useState(String(project?.smtp.port ?? 587));
  const [secure, setSecure] = useState(project?.smtp.secure ?? false);
  const [user, setUser] = useState(project?.smtp.user ?? '');
  const [pass, setPass] = useState('');
  const [fromEmail, setFromEmail] = useState(project?.fromEmail ?? '');
  const [fromName, setFromName] = useState(project?.fromName ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const hostError = fieldError(error, 'smtp.host');
  const passError = fieldError(error, 'smtp.pass');
  const formError = hostError || passError ? undefined : error;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const smtp = { host: host.trim(), port: Number(port), secure, user: user || null };
    try {
      const saved = project
        ? await request(() =>
            api.PATCH('/projects/{id}', {
              params: { path: { id: project.id } },
              body: { name, smtp: { ...smtp, ...(pass ? { pass } : {}) }, fromEmail, fromName: fromName || null },
            }),
          )
        : await request(() => api.POST('/projects', { body: { name, smtp: { ...smtp, pass: pass || null }, fromEmail, fromName: fromName || null } }));
      setPass('');
      onSaved(saved);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const titleId = 'project-form-title';
  return (
    <form className="card form-card" aria-labelledby={titleId} onSubmit={(e) => void submit(e)}>
      <h2 id={titleId}>{project ? t('projects.editTitle', { name: project.name }) : t('projects.new')}</h2>
      <TextField id="project-name" label={t('projects.name')} required maxLength={200} value={name} onChange={setName} />
      <div className="field-row">
        <div className="field">
          <label htmlFor="project-host">{t('projects.host')}</label>
          <input
            id="project-host"
            type="text"
            required
            value={host}
            onChange={(e) => setHost(e.target.value)}
            aria-invalid={hostError ? true : undefined}
            aria-describedby={hostError ? 'project-host-error' : undefined}
          />
          {hostError && (
            <p id="project-host-error" className="field-error" role="alert">
              {errorMessage(hostError, t)}
            </p>
          )}
        </div>
        <TextField id="project-port" label={t('projects.port')} type="number" min={1} max={65535} required value={port} onChange={setPort} />
        <div className="field">
          <label htmlFor="project-security">{t('projects.security')}</label>
          <select id="project-security" value={secure ? 'tls' : 'starttls'} onChange={(e) => setSecure(e.target.value === 'tls')}>
            <option value="starttls">{t('projects.security.starttls')}</option>
            <option value="tls">{t('projects.security.tls')}</option>
          </select>
        </div>
      </div>
      <div className="field-row">
        <TextField id="project-user" label={t('projects.user')} autoComplete="off" value={user} onChange={setUser} />
        <div className="field">
          <label htmlFor="project-pass">{t('projects.password')}</label>
          <input
            id="project-pass"
            type="password"
            autoComplete="new-password"
            value={pass}
            onChange={(e) => setPass(e.target.value)}
            aria-invalid={passError ? true : undefined}
            aria-describedby={`project-pass-hint${passError ? ' project-pass-error' : ''}`}
          />
          <p id="project-pass-hint" className="muted small">
            {project?.smtp.hasPassword ? t('projects.passwordSet') : t('projects.passwordNone')}
          </p>
          {passError && (
            <p id="project-pass-error" className="field-error" role="alert">
              {errorMessage(passError, t)}
            </p>
          )}
        </div>
      </div>
      <div className="field-row">
        <TextField id="project-from" label={t('projects.fromEmail')} type="email" required value={fromEmail} onChange={setFromEmail} />
        <TextField id="project-from-name" label={t('projects.fromName')} value={fromName} onChange={setFromName} />
      </div>
      <ErrorMessage error={formError} />
      <div className="row-actions">
        <button type="submit" disabled={busy}>
          {busy ? t('common.saving') : t('common.save')}
        </button>
        <button type="button" className="button-secondary" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}
