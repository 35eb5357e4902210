import type { MessageKey } from './i18n';
import { useI18n } from './i18n';
import { Link, useLocation } from './router';
import { can, type Scope } from './scopes';
import { useSession } from './session';

/** The settings pages, each shown to the roles holding the scope its list needs. */
export const SETTINGS_PAGES: { path: string; label: MessageKey; scope: Scope }[] = [
  { path: '/app/settings/projects', label: 'settings.projects', scope: 'projects:read' },
  { path: '/app/settings/domains', label: 'settings.domains', scope: 'domains:read' },
  { path: '/app/settings/webhooks', label: 'settings.webhooks', scope: 'webhooks:manage' },
  { path: '/app/settings/api-keys', label: 'settings.apiKeys', scope: 'keys:manage' },
  { path: '/app/settings/members', label: 'settings.members', scope: 'members:manage' },
];

/** The secondary navigation of the settings area. */
export function SettingsNav() {
  const { t } = useI18n();
  const { role } = useSession();
  const { path } = useLocation();
  return (
    <nav className="subnav" aria-label={t('settings.nav')}>
      <ul>
        {SETTINGS_PAGES.filter((p) => can(role, p.scope)).map((p) => (
          <li key={p.path}>
            <Link to={p.path} aria-current={path === p.path ? 'page' : undefined}>
              {t(p.label)}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
