import { useEffect, useRef, useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from 'react';
import { errorMessage } from './api';
import { useI18n } from './i18n';

/** An error in an assertive live region, so a screen reader announces it. */
export function ErrorMessage({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  if (error === undefined || error === null) return <div role="alert" className="sr-live" />;
  return (
    <div role="alert" className="alert alert-error">
      <p>{errorMessage(error, t)}</p>
      {onRetry && (
        <button type="button" className="button-secondary" onClick={onRetry}>
          {t('error.retry')}
        </button>
      )}
    </div>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p role="status" className="muted">
      {t('app.loading')}
    </p>
  );
}

/** A page's heading, focused when the page changes so keyboard and screen-reader users start there. */
export function PageTitle({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
    document.title = `${ref.current?.textContent ?? ''} · MailingCore`;
  }, [children]);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

export function ProgressBar({ value, max, label }: { value: number; max: number; label: string }) {
  const percent = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0;
  return (
    <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} aria-label={label} title={label}>
      <div className="progress-fill" style={{ width: `${percent}%` }} />
    </div>
  );
}

/** Loads data with `load` when `deps` change; `reload` loads again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: unknown; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: unknown }>({ data: undefined, error: undefined });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ data: s.data, error: undefined }));
    load().then(
      (data) => live && setState({ data, error: undefined }),
      (error: unknown) => live && setState({ data: undefined, error }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation]);
  return { ...state, reload: () => setGeneration((g) => g + 1) };
}

/**
 * A form's submit: busy while `action` runs, its error kept for ErrorMessage.
 * On success the action navigates away, so busy stays on (no double submit).
 */
export function useFormAction(action: () => Promise<void>): { busy: boolean; error: unknown; onSubmit: (event: FormEvent) => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    action().catch((err: unknown) => {
      setError(err);
      setBusy(false);
    });
  };
  return { busy, error, onSubmit };
}

/** A labelled text input of a form. */
export function TextField({
  id,
  label,
  value,
  onChange,
  ...input
}: { id: string; label: string; value: string; onChange: (value: string) => void } & Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'onChange'>) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} value={value} onChange={(e) => onChange(e.target.value)} {...input} />
    </div>
  );
}

/**
 * A button that asks first: a click shows the question with Yes / Cancel in
 * place (focus moves to Cancel, the safe answer, and back to the button when
 * the question closes); Yes runs `onConfirm`, whose error is shown under the
 * question.
 */
export function ConfirmButton({
  label,
  question,
  onConfirm,
  danger = true,
}: {
  label: string;
  question: string;
  onConfirm: () => Promise<void>;
  danger?: boolean;
}) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(false);
  useEffect(() => {
    // Focus goes to Cancel when asked, and back to the button when the question closes.
    if (open) cancelRef.current?.focus();
    else if (wasOpen.current) openerRef.current?.focus();
    wasOpen.current = open;
  }, [open]);
  if (!open) {
    return (
      <button ref={openerRef} type="button" className={danger ? 'button-danger' : 'button-secondary'} onClick={() => setOpen(true)}>
        {label}
      </button>
    );
  }
  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await onConfirm();
      setOpen(false);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="confirm" role="group" aria-label={question}>
      <p>{question}</p>
      <button type="button" className={danger ? 'button-danger' : undefined} disabled={busy} onClick={() => void confirm()}>
        {t('common.confirmYes')}
      </button>
      <button ref={cancelRef} type="button" className="button-secondary" onClick={() => setOpen(false)}>
        {t('common.cancel')}
      </button>
      <ErrorMessage error={error} />
    </div>
  );
}

/** Copies `text` to the clipboard, saying so in a polite live region. */
export function CopyButton({ text, label }: { text: string; label?: string }) {
  const { t } = useI18n();
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <span className="copy">
      <button type="button" className="button-secondary button-small" aria-label={label} onClick={() => void copy()}>
        {t('common.copy')}
      </button>
      <span role="status" className="small">
        {state === 'copied' ? t('common.copied') : state === 'failed' ? t('common.copyFailed') : ''}
      </span>
    </span>
  );
}

/** Runs one action at a time: busy while it runs, its error kept, a status line on success. */
export function useAction(): {
  busy: boolean;
  error: unknown;
  status: string;
  run: (action: () => Promise<string | void>) => Promise<boolean>;
  /** Shows a success line (e.g. after a ConfirmButton, which shows its own error). */
  done: (status: string) => void;
} {
  const [state, setState] = useState<{ busy: boolean; error: unknown; status: string }>({ busy: false, error: undefined, status: '' });
  const run = async (action: () => Promise<string | void>) => {
    setState({ busy: true, error: undefined, status: '' });
    try {
      const status = await action();
      setState({ busy: false, error: undefined, status: status ?? '' });
      return true;
    } catch (error) {
      setState({ busy: false, error, status: '' });
      return false;
    }
  };
  const done = (status: string) => setState({ busy: false, error: undefined, status });
  return { ...state, run, done };
}

/** A success line in a polite live region (always present, so additions are announced). */
export function StatusMessage({ text }: { text: string }) {
  return (
    <p role="status" className={text ? 'alert alert-ok' : 'sr-live'}>
      {text}
    </p>
  );
}

/** An action's outcome: its error (assertive live region) and its success line (polite). */
export function ActionFeedback({ action }: { action: { error: unknown; status: string } }) {
  return (
    <>
      <ErrorMessage error={action.error} />
      <StatusMessage text={action.status} />
    </>
  );
}

/** A load's state (useLoad): its error with a retry, or Loading while nothing has come yet. */
export function LoadState({ data, error, reload }: { data: unknown; error: unknown; reload: () => void }) {
  return (
    <>
      <ErrorMessage error={error} onRetry={reload} />
      {data === undefined && !error && <Loading />}
    </>
  );
}

/**
 * A fieldset of checkboxes, one per code-like value (scopes, event types),
 * with the error shown when none is chosen (`missing`).
 */
export function CodeChecklist<T extends string>({
  id,
  legend,
  options,
  chosen,
  onChange,
  missing,
}: {
  id: string;
  legend: string;
  options: readonly T[];
  chosen: readonly T[];
  onChange: (chosen: T[]) => void;
  /** The message when nothing is chosen and the form was submitted; undefined otherwise. */
  missing: string | undefined;
}) {
  const toggle = (value: T, on: boolean) => onChange(on ? [...chosen, value] : chosen.filter((x) => x !== value));
  return (
    <>
      <fieldset className="field checklist" aria-describedby={missing ? `${id}-missing` : undefined}>
        <legend>{legend}</legend>
        {options.map((value) => (
          <label key={value} className="choice">
            <input type="checkbox" checked={chosen.includes(value)} onChange={(e) => toggle(value, e.target.checked)} />
            <code>{value}</code>
          </label>
        ))}
      </fieldset>
      {missing && (
        <p id={`${id}-missing`} className="field-error" role="alert">
          {missing}
        </p>
      )}
    </>
  );
}
