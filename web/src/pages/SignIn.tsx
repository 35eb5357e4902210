import { useState } from 'react';
import { api, request } from '../api';
import { ErrorMessage, PageTitle, TextField, useFormAction } from '../components';
import { useI18n } from '../i18n';
import { navigate } from '../router';
import { useSession } from '../session';

export function SignIn() {
  const { t } = useI18n();
  const { setMe } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, onSubmit } = useFormAction(async () => {
    setMe(await request(() => api.POST('/auth/sign-in', { body: { email, password } })));
    const next = new URLSearchParams(window.location.search).get('next');
    navigate(next && next.startsWith('/app/') ? next : '/app/campaigns', { replace: true });
  });

  return (
    <section className="card narrow">
      <PageTitle>{t('signIn.title')}</PageTitle>
      <form onSubmit={onSubmit} noValidate>
        <TextField id="email" label={t('signIn.email')} type="email" autoComplete="username" required value={email} onChange={setEmail} />
        <TextField id="password" label={t('signIn.password')} type="password" autoComplete="current-password" required value={password} onChange={setPassword} />
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? t('signIn.busy') : t('signIn.submit')}
        </button>
      </form>
    </section>
  );
}
