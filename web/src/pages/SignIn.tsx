import { useState, type FormEvent } from 'react';
import { api, request } from '../api';
import { ErrorMessage, PageTitle } from '../components';
import { useI18n } from '../i18n';
import { navigate } from '../router';
import { useSession } from '../session';

export function SignIn() {
  const { t } = useI18n();
  const { setMe } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const me = await request(() => api.POST('/auth/sign-in', { body: { email, password } }));
      setMe(me);
      const next = new URLSearchParams(window.location.search).get('next');
      navigate(next && next.startsWith('/app/') ? next : '/app/campaigns', { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <section className="card narrow">
      <PageTitle>{t('signIn.title')}</PageTitle>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <div className="field">
          <label htmlFor="email">{t('signIn.email')}</label>
          <input id="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="password">{t('signIn.password')}</label>
          <input
            id="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {busy ? t('signIn.busy') : t('signIn.submit')}
        </button>
      </form>
    </section>
  );
}
