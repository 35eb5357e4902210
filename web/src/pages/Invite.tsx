import { useState, type FormEvent } from 'react';
import { api, request } from '../api';
import { ErrorMessage, PageTitle } from '../components';
import { useI18n } from '../i18n';
import { navigate } from '../router';
import { useSession } from '../session';

/** The page an invitation email links to (`/invite?token=mci_…`). */
export default function Invite() {
  const { t } = useI18n();
  const { setMe } = useSession();
  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setMe(await request(() => api.POST('/invitations/accept', { body: { token, password } })));
      navigate('/app/campaigns', { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <section className="card narrow">
      <PageTitle>{t('invite.title')}</PageTitle>
      {!token ? (
        <p role="alert">{t('invite.noToken')}</p>
      ) : (
        <>
          <p>{t('invite.intro')}</p>
          <form onSubmit={(e) => void submit(e)} noValidate>
            <div className="field">
              <label htmlFor="invite-password">{t('invite.password')}</label>
              <input
                id="invite-password"
                type="password"
                autoComplete="new-password"
                minLength={10}
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </div>
            <ErrorMessage error={error} />
            <button type="submit" disabled={busy}>
              {busy ? t('invite.busy') : t('invite.submit')}
            </button>
          </form>
        </>
      )}
    </section>
  );
}
