import { useState, type ReactNode } from 'react';
import { ApiError, type Campaign, type Role } from '../api';
import { useI18n } from '../i18n';
import { Link, useLocation } from '../router';

/** Roles that hold campaigns:write (docs/ACCOUNTS.md): editors and up create and edit drafts and send tests. */
export const canEdit = (role: Role | undefined) => role === 'owner' || role === 'admin' || role === 'editor';

/** The API's complaint about one field (`details[].field` equal to `field` or under it), or undefined. */
export function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const found = error.details.filter((d) => d.field === field || d.field.startsWith(`${field}.`) || d.field.startsWith(`${field}[`));
  return found.length > 0 ? found.map((d) => d.message).join('; ') : undefined;
}

/** The text under a field that the API refused; `id` is what the input's aria-describedby names. */
export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p id={id} className="field-error">
      {message}
    </p>
  );
}

/**
 * A button that asks first: the question, then "confirm" and "back" buttons in
 * a labelled group. `action` runs on confirm; its error shows in the group.
 */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  action,
  danger,
  confirmDisabled,
  describedBy,
  children,
}: {
  label: string;
  question: string;
  confirmLabel: string;
  action: () => Promise<void>;
  danger?: boolean;
  /** The confirm button is disabled (the question still opens, with the reason `describedBy` names). */
  confirmDisabled?: boolean;
  describedBy?: string;
  children?: ReactNode;
}) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [id] = useState(() => `confirm-${Math.random().toString(36).slice(2)}`);
  if (!open) {
    return (
      <button type="button" className={danger ? 'button-danger' : undefined} onClick={() => setOpen(true)}>
        {label}
      </button>
    );
  }
  const run = async () => {
    setBusy(true);
    try {
      await action();
      setOpen(false);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="confirm" role="group" aria-labelledby={id}>
      <p id={id}>{question}</p>
      {children}
      <div className="confirm-buttons">
        <button
          type="button"
          className={danger ? 'button-danger' : undefined}
          disabled={busy || confirmDisabled}
          aria-describedby={describedBy}
          onClick={() => void run().catch(() => undefined)}
        >
          {confirmLabel}
        </button>
        <button type="button" className="button-secondary" onClick={() => setOpen(false)}>
          {t('campaign.cancel')}
        </button>
      </div>
    </div>
  );
}

/** The links between a campaign's pages: overview, recipients, report. */
export function CampaignTabs({ campaign }: { campaign: Pick<Campaign, 'id'> }) {
  const { t } = useI18n();
  const { path } = useLocation();
  const base = `/app/campaigns/${encodeURIComponent(campaign.id)}`;
  const tabs = [
    [base, t('campaigns.x.overview')],
    [`${base}/messages`, t('campaigns.x.recipients')],
    [`${base}/report`, t('campaigns.x.report')],
  ] as const;
  return (
    <nav className="tabs" aria-label={t('campaigns.x.sections')}>
      <ul>
        {tabs.map(([to, label]) => (
          <li key={to}>
            <Link to={to} aria-current={path === to ? 'page' : undefined}>
              {label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** `2026-12-01T09:00` wall-clock time in `zone` → the UTC instant, or null when it does not exist there (a DST gap) or is malformed. */
export function zonedToUtc(local: string, zone: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  let offset: (at: number) => number;
  try {
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    offset = (at: number) => {
      const parts = Object.fromEntries(format.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
      return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) - at;
    };
  } catch {
    return null;
  }
  // Two passes settle the offset across a DST change; the round trip must give the same wall-clock time back.
  let instant = wall - offset(wall);
  instant = wall - offset(instant);
  return instant + offset(instant) === wall ? new Date(instant) : null;
}

/** The time zones this browser knows (IANA), UTC included. */
export function timeZones(): string[] {
  let zones: string[] = [];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    zones = [];
  }
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}

export const browserTimeZone = (): string => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
};
