import { useState, type FormEvent } from 'react';
import { ApiError, currentCsrfToken, errorOf, type ImportResult } from '../api';
import { ErrorMessage, PageTitle, ProgressBar } from '../components';
import { useI18n } from '../i18n';
import { Link } from '../router';

/** The import's media type from the file's name (the API takes text/csv or application/x-ndjson). */
export function importMediaType(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.csv')) return 'text/csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'application/x-ndjson';
  return undefined;
}

type Upload =
  | { phase: 'idle' }
  | { phase: 'uploading'; sent: number; total: number }
  | { phase: 'processing'; total: number }
  | { phase: 'done'; total: number; result: ImportResult }
  | { phase: 'failed'; error: unknown };

/**
 * POST /contacts/import with XMLHttpRequest, for its upload progress events:
 * the server parses the body as it arrives, so bytes sent is real progress.
 * Same-origin cookie and the CSRF header, like every other state change.
 */
function upload(file: File, type: string, onProgress: (sent: number, total: number) => void): Promise<ImportResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/contacts/import');
    xhr.setRequestHeader('Content-Type', type);
    const token = currentCsrfToken();
    if (token) xhr.setRequestHeader('X-CSRF-Token', token);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response as ImportResult);
      else reject(errorOf(xhr.status, xhr.statusText, xhr.response, xhr.getResponseHeader('retry-after')));
    };
    xhr.onerror = () => reject(new ApiError('unreachable', 0, 'UNREACHABLE', 'network error'));
    xhr.onabort = () => reject(new ApiError('unreachable', 0, 'UNREACHABLE', 'aborted'));
    xhr.send(file);
  });
}

export default function ContactImport() {
  const { t, number } = useI18n();
  const [file, setFile] = useState<File | null>(null);
  const [state, setState] = useState<Upload>({ phase: 'idle' });
  const [invalid, setInvalid] = useState(false);
  const busy = state.phase === 'uploading' || state.phase === 'processing';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    const type = importMediaType(file.name);
    setInvalid(!type);
    if (!type) return;
    setState({ phase: 'uploading', sent: 0, total: file.size });
    try {
      const result = await upload(file, type, (sent, total) =>
        setState(sent >= total ? { phase: 'processing', total } : { phase: 'uploading', sent, total }),
      );
      setState({ phase: 'done', total: file.size, result });
    } catch (error) {
      setState({ phase: 'failed', error });
    }
  };

  const sent = state.phase === 'uploading' ? state.sent : state.phase === 'processing' || state.phase === 'done' ? state.total : 0;
  const total = state.phase === 'uploading' || state.phase === 'processing' || state.phase === 'done' ? state.total : 0;

  return (
    <section>
      <p>
        <Link to="/app/contacts">{t('contact.back')}</Link>
      </p>
      <PageTitle>{t('import.title')}</PageTitle>
      <p className="muted">{t('import.intro')}</p>
      <form className="card" onSubmit={(e) => void submit(e)}>
        <div className="field">
          <label htmlFor="import-file">{t('import.file')}</label>
          <input
            id="import-file"
            type="file"
            accept=".csv,.ndjson,.jsonl,text/csv,application/x-ndjson"
            disabled={busy}
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              setInvalid(false);
            }}
          />
        </div>
        {invalid && (
          <p role="alert" className="alert alert-error">
            {t('import.wrongType')}
          </p>
        )}
        <button type="submit" disabled={!file || busy}>
          {busy ? t('import.busy') : t('import.submit')}
        </button>
      </form>

      {state.phase !== 'idle' && state.phase !== 'failed' && (
        <div className="import-progress">
          <ProgressBar value={sent} max={total} label={t('import.progressLabel')} />
          <p role="status">
            {state.phase === 'uploading' && t('import.uploading', { sent: number(Math.round(sent / 1024)), total: number(Math.round(total / 1024)) })}
            {state.phase === 'processing' && t('import.processing')}
            {state.phase === 'done' && t('import.done')}
          </p>
        </div>
      )}
      {state.phase === 'failed' && <ErrorMessage error={state.error} />}
      {state.phase === 'done' && <Summary result={state.result} />}
    </section>
  );
}

function Summary({ result }: { result: ImportResult }) {
  const { t, number } = useI18n();
  return (
    <>
      <h2>{t('import.summary')}</h2>
      <dl className="counters">
        {(
          [
            ['import.processed', result.processed],
            ['import.created', result.created],
            ['import.updated', result.updated],
            ['import.failed', result.failed],
          ] as const
        ).map(([key, value]) => (
          <div key={key}>
            <dt>{t(key)}</dt>
            <dd>{number(value)}</dd>
          </div>
        ))}
      </dl>
      {result.errors.length > 0 && (
        <>
          <h3 id="import-errors">{t('import.errors')}</h3>
          {result.failed > result.errors.length && <p className="muted">{t('import.errorsCapped', { shown: number(result.errors.length), failed: number(result.failed) })}</p>}
          <table className="table" aria-labelledby="import-errors">
            <thead>
              <tr>
                <th scope="col" className="numeric">
                  {t('import.line')}
                </th>
                <th scope="col">{t('import.reason')}</th>
              </tr>
            </thead>
            <tbody>
              {result.errors.map((problem, index) => (
                <tr key={index}>
                  <td className="numeric">{number(problem.line)}</td>
                  <td className="pre-wrap">{problem.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}
