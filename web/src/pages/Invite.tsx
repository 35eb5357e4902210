import { useState } from 'react';
import { api, request } from '../api';
import { ErrorMessage, PageTitle, TextField, useFormAction } from '../components';
import { useI18n } from '../i18n';
import { navigate } from '../router';
import { useSession } from '../session';

/** The page an invitation email links to (`/invite?token=mci_…`). */
export default function Invite() {
  const { t } = useI18n();
  const { setMe } = useSession();
  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  const [password, setPassword] = useState('');
  const { busy, error, onSubmit } = useFormAction(async () => {
    setMe(await request(() => api.POST('/invitations/accept', { body: { token, password } })));
    navigate('/app/campaigns', { replace: true });
  });

  return (
    <section className="card narrow">
      <PageTitle>{t('invite.title')}</PageTitle>
      {!token ? (
        <p role="alert">{t('invite.noToken')}</p>
      ) : (
        <>
          <p>{t('invite.intro')}</p>
          <form onSubmit={onSubmit} noValidate>
            <TextField
              id="invite-password"
              label={t('invite.password')}
              type="password"
              autoComplete="new-password"
              minLength={10}
              required
              value={password}
              onChange={setPassword}
            />
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
