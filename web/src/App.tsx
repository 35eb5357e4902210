import { lazy, Suspense, useEffect, useState, type ChangeEvent, type ReactNode } from 'react';
import { api, request } from './api';
import { ErrorMessage, Loading } from './components';
import { LANGUAGES, useI18n, type Language } from './i18n';
import { Link, match, navigate, useLocation } from './router';
import { can } from './scopes';
import { useSession } from './session';
import { SETTINGS_PAGES } from './settings-nav';
import { SignIn } from './pages/SignIn';

// Route-level code splitting: each page is its own chunk, loaded when first opened.
const Setup = lazy(() => import('./pages/Setup'));
const Invite = lazy(() => import('./pages/Invite'));
const Campaigns = lazy(() => import('./pages/Campaigns'));
const CampaignDetail = lazy(() => import('./pages/CampaignDetail'));
const CampaignEdit = lazy(() => import('./pages/CampaignEdit'));
const CampaignMessages = lazy(() => import('./pages/CampaignMessages'));
const CampaignReport = lazy(() => import('./pages/CampaignReport'));
const Usage = lazy(() => import('./pages/Usage'));
const Contacts = lazy(() => import('./pages/Contacts'));
const ContactDetail = lazy(() => import('./pages/ContactDetail'));
const ContactImport = lazy(() => import('./pages/ContactImport'));
const Templates = lazy(() => import('./pages/Templates'));
const TemplateEditor = lazy(() => import('./pages/TemplateEditor'));
const Suppressions = lazy(() => import('./pages/Suppressions'));
const Projects = lazy(() => import('./pages/Projects'));
const ApiKeys = lazy(() => import('./pages/ApiKeys'));
const Members = lazy(() => import('./pages/Members'));
const Domains = lazy(() => import('./pages/Domains'));
const Webhooks = lazy(() => import('./pages/Webhooks'));
const NotFound = lazy(() => import('./pages/NotFound'));

export const HOME = '/app/campaigns';

export function App() {
  const { path } = useLocation();
  const { me, error, reload, role } = useSession();

  // Pages that work signed out.
  if (path === '/setup') return <Bare><Setup /></Bare>;
  if (path === '/invite') return <Bare><Invite /></Bare>;

  if (me === undefined) {
    return <Bare>{error ? <ErrorMessage error={error} onRetry={() => void reload()} /> : <Loading />}</Bare>;
  }
  if (me === null) {
    if (path !== '/sign-in') return <Redirect to={`/sign-in${path.startsWith('/app') ? `?next=${encodeURIComponent(path)}` : ''}`} />;
    return <Bare><SignIn /></Bare>;
  }
  if (path === '/' || path === '/sign-in' || path === '/app') return <Redirect to={HOME} />;

  let page: ReactNode;
  let params: Record<string, string> | null;
  if (path === '/app/campaigns') page = <Campaigns />;
  else if (path === '/app/campaigns/new') page = <CampaignEdit />;
  else if ((params = match('/app/campaigns/:id/edit', path))) page = <CampaignEdit key={params.id} id={params.id!} />;
  else if ((params = match('/app/campaigns/:id/messages', path))) page = <CampaignMessages id={params.id!} />;
  else if ((params = match('/app/campaigns/:id/report', path))) page = <CampaignReport id={params.id!} />;
  else if ((params = match('/app/campaigns/:id', path))) page = <CampaignDetail id={params.id!} />;
  else if (path === '/app/usage') page = <Usage />;
  else if (path === '/app/contacts') page = <Contacts />;
  else if (path === '/app/contacts/import') page = <ContactImport />;
  else if ((params = match('/app/contacts/:id', path))) page = <ContactDetail key={params.id} id={params.id!} />;
  else if (path === '/app/templates') page = <Templates />;
  else if ((params = match('/app/templates/:id', path))) page = <TemplateEditor key={params.id} id={params.id!} />;
  else if (path === '/app/suppressions') page = <Suppressions />;
  else if (path === '/app/settings') {
    const first = SETTINGS_PAGES.find((p) => can(role, p.scope));
    page = first ? <Redirect to={first.path} /> : <NotFound />;
  } else if (path.startsWith('/app/settings/')) {
    // A settings page the role cannot open is not found (the API would refuse it anyway).
    const allowed = SETTINGS_PAGES.some((p) => p.path === path && can(role, p.scope));
    page = !allowed ? (
      <NotFound />
    ) : path === '/app/settings/projects' ? (
      <Projects />
    ) : path === '/app/settings/api-keys' ? (
      <ApiKeys />
    ) : path === '/app/settings/members' ? (
      <Members />
    ) : path === '/app/settings/domains' ? (
      <Domains />
    ) : (
      <Webhooks />
    );
  } else page = <NotFound />;
  // A tenant switch remounts the page, so that nothing of the previous tenant stays on screen.
  return <Shell key={me.currentTenantId ?? 'none'}>{page}</Shell>;
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

/** Signed-out pages: a centred card, the language switch on top. */
function Bare({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  return (
    <>
      <header className="bare-header">
        <span className="brand">{t('app.name')}</span>
        <LanguageSwitch />
      </header>
      <main id="main" className="bare-main">
        <Suspense fallback={<Loading />}>{children}</Suspense>
      </main>
    </>
  );
}

function LanguageSwitch() {
  const { t, language, setLanguage } = useI18n();
  return (
    <label className="inline-field">
      <span>{t('app.language')}</span>
      <select value={language} onChange={(e: ChangeEvent<HTMLSelectElement>) => setLanguage(e.target.value as Language)}>
        {Object.entries(LANGUAGES).map(([code, name]) => (
          <option key={code} value={code} lang={code}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}

function Shell({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const { me, setMe, role } = useSession();
  const { path } = useLocation();
  const [error, setError] = useState<unknown>(undefined);
  if (!me) return null;

  const switchTenant = async (tenantId: string) => {
    setError(undefined);
    try {
      setMe(await request(() => api.POST('/me/tenant', { body: { tenantId } })));
    } catch (err) {
      setError(err);
    }
  };
  const signOut = async () => {
    setError(undefined);
    try {
      await request(() => api.POST('/auth/sign-out'));
      setMe(null);
      navigate('/sign-in', { replace: true });
    } catch (err) {
      setError(err);
    }
  };
  const navItem = (to: string, label: string) => {
    const current = path === to || path.startsWith(`${to}/`);
    return (
      <li>
        <Link to={to} aria-current={current ? 'page' : undefined}>
          {label}
        </Link>
      </li>
    );
  };

  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <header className="topbar">
        <span className="brand">{t('app.name')}</span>
        <nav aria-label={t('app.mainNav')}>
          <ul>
            {navItem('/app/campaigns', t('nav.campaigns'))}
            {navItem('/app/contacts', t('nav.contacts'))}
            {navItem('/app/templates', t('nav.templates'))}
            {navItem('/app/usage', t('nav.usage'))}
            {navItem('/app/suppressions', t('nav.suppressions'))}
            {navItem('/app/settings', t('nav.settings'))}
          </ul>
        </nav>
        <div className="topbar-tools">
          {me.tenants.length > 0 && (
            <label className="inline-field">
              <span>{t('app.tenant')}</span>
              <select value={me.currentTenantId ?? ''} onChange={(e) => void switchTenant(e.target.value)}>
                {me.tenants.map((tenant) => (
                  <option key={tenant.id} value={tenant.id}>
                    {tenant.name}
                  </option>
                ))}
              </select>
            </label>
          )}
          <LanguageSwitch />
          <span className="muted small">{t('app.signedInAs', { email: me.user.email, role: role ? t(`role.${role}`) : '—' })}</span>
          <button type="button" className="button-secondary" onClick={() => void signOut()}>
            {t('app.signOut')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorMessage error={error} />
        <Suspense fallback={<Loading />}>{children}</Suspense>
      </main>
    </>
  );
}
