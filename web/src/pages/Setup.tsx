import { useEffect, useState } from 'react';
import { api, request } from '../api';
import { ErrorMessage, Loading, PageTitle, TextField, useFormAction } from '../components';
import { useI18n } from '../i18n';
import { Link, navigate } from '../router';
import { useSession } from '../session';

/** First run: the page the link printed by `npm start` opens (`/setup?token=mcu_…`). */
export default function Setup() {
  const { t } = useI18n();
  const { setMe } = useSession();
  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  const [open, setOpen] = useState<boolean | undefined>(undefined);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [mode, setMode] = useState<'create' | 'claim'>('create');
  const [tenantName, setTenantName] = useState('');
  const [statusError, setStatusError] = useState<unknown>(undefined);

  useEffect(() => {
    request(() => api.GET('/auth/setup')).then(
      (status) => setOpen(status.open),
      (err: unknown) => {
        setStatusError(err);
        setOpen(true);
      },
    );
  }, []);

  const { busy, error: submitError, onSubmit } = useFormAction(async () => {
    setStatusError(undefined);
    const body = mode === 'create' ? { token, email, password, tenantName } : { token, email, password, claimTenants: true };
    setMe(await request(() => api.POST('/setup', { body })));
    // The token must not stay in the address bar or the history.
    navigate('/app/campaigns', { replace: true });
  });
  const error = submitError ?? statusError;

  if (open === undefined) return <Loading />;
  if (!open) {
    return (
      <section className="card narrow">
        <PageTitle>{t('setup.title')}</PageTitle>
        <p>{t('setup.closed')}</p>
        <Link to="/sign-in">{t('setup.goSignIn')}</Link>
      </section>
    );
  }
  if (!token) {
    return (
      <section className="card narrow">
        <PageTitle>{t('setup.title')}</PageTitle>
        <p role="alert">{t('setup.noToken')}</p>
      </section>
    );
  }
  return (
    <section className="card narrow">
      <PageTitle>{t('setup.title')}</PageTitle>
      <p>{t('setup.intro')}</p>
      <form onSubmit={onSubmit} noValidate>
        <TextField id="setup-email" label={t('setup.email')} type="email" autoComplete="username" required value={email} onChange={setEmail} />
        <TextField
          id="setup-password"
          label={t('setup.password')}
          type="password"
          autoComplete="new-password"
          minLength={10}
          required
          value={password}
          onChange={setPassword}
        />
        <fieldset className="field">
          <legend>{t('setup.mode')}</legend>
          <label className="choice">
            <input type="radio" name="mode" value="create" checked={mode === 'create'} onChange={() => setMode('create')} />
            {t('setup.createTenant')}
          </label>
          <label className="choice">
            <input type="radio" name="mode" value="claim" checked={mode === 'claim'} onChange={() => setMode('claim')} />
            {t('setup.claimTenants')}
          </label>
        </fieldset>
        {mode === 'create' && (
          <TextField id="setup-tenant" label={t('setup.tenantName')} type="text" required value={tenantName} onChange={setTenantName} />
        )}
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? t('setup.busy') : t('setup.submit')}
        </button>
      </form>
    </section>
  );
}
