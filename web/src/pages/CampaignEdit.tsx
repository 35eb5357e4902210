import { useEffect, useMemo, useState } from 'react';
import { api, request, type Campaign, type Schemas } from '../api';
import { ErrorMessage, Loading, PageTitle, TextField, useFormAction, useLoad } from '../components';
import { useI18n } from '../i18n';
import { Link, navigate } from '../router';
import { useSession } from '../session';
import { browserTimeZone, canEdit, FieldError, fieldError, timeZones } from './campaign-common';

type Filter = NonNullable<Campaign['audienceFilter']>;
type Version = Schemas['/templates/{id}/versions']['get']['responses'][200]['content']['application/json']['data'][number];
type Project = Schemas['/projects']['get']['responses'][200]['content']['application/json']['data'][number];

/** One row of the audience filter builder. The API's filter is equality only ("is"), one row per field, attributes by key. */
interface Row {
  key: number;
  field: 'locale' | 'optIn' | 'projectId' | 'attribute';
  attribute: string;
  type: 'text' | 'number' | 'boolean';
  value: string;
}

let nextKey = 1;
const row = (field: Row['field'], value = '', attribute = '', type: Row['type'] = 'text'): Row => ({ key: nextKey++, field, attribute, type, value });

export function rowsOf(filter: Filter | null): Row[] {
  if (!filter) return [];
  const rows: Row[] = [];
  if (filter.locale !== undefined) rows.push(row('locale', filter.locale));
  if (filter.optIn !== undefined) rows.push(row('optIn', String(filter.optIn)));
  if (filter.projectId !== undefined) rows.push(row('projectId', filter.projectId));
  for (const [name, value] of Object.entries(filter.attributes ?? {})) {
    rows.push(row('attribute', String(value), name, typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'text'));
  }
  return rows;
}

/** The rows as the API's `audienceFilter` (null when there is none: every opted-in contact). */
export function filterOf(rows: Row[]): Filter | null {
  const filter: Filter = {};
  const attributes: Record<string, string | number | boolean> = {};
  for (const r of rows) {
    if (r.field === 'locale' && r.value.trim()) filter.locale = r.value.trim();
    else if (r.field === 'optIn') filter.optIn = r.value !== 'false';
    else if (r.field === 'projectId' && r.value) filter.projectId = r.value;
    else if (r.field === 'attribute' && r.attribute.trim()) {
      attributes[r.attribute.trim()] = r.type === 'number' ? Number(r.value) : r.type === 'boolean' ? r.value === 'true' : r.value;
    }
  }
  if (Object.keys(attributes).length > 0) filter.attributes = attributes;
  return Object.keys(filter).length > 0 ? filter : null;
}

/** Create (no id) or edit (id) a DRAFT campaign: name, subject, template version, project, audience with a live count, time zone, tracking. */
export default function CampaignEdit({ id }: { id?: string }) {
  const { t } = useI18n();
  const { role } = useSession();
  const { data, error, reload } = useLoad(async () => {
    const [campaign, templates, projects] = await Promise.all([
      id ? request(() => api.GET('/campaigns/{id}', { params: { path: { id } } })) : Promise.resolve(undefined),
      request(() => api.GET('/templates', { params: { query: { page: 1, limit: 100 } } })),
      request(() => api.GET('/projects', { params: { query: { page: 1, limit: 100 } } })),
    ]);
    const versions = await Promise.all(
      templates.data.map(async (template) => ({
        template,
        versions: (await request(() => api.GET('/templates/{id}/versions', { params: { path: { id: template.id }, query: { page: 1, limit: 100 } } }))).data,
      })),
    );
    return { campaign, versions, projects: projects.data };
  }, [id]);

  if (error) {
    return (
      <section>
        <Link to="/app/campaigns">{t('campaign.back')}</Link>
        <ErrorMessage error={error} onRetry={reload} />
      </section>
    );
  }
  if (!data) return <Loading />;
  if (!canEdit(role)) return <p className="alert alert-warning">{t('campaigns.edit.notAllowed')}</p>;
  if (data.campaign && data.campaign.status !== 'DRAFT') {
    return (
      <section>
        <PageTitle>{data.campaign.name}</PageTitle>
        <p className="alert alert-warning">{t('campaigns.edit.notDraft')}</p>
        <Link to={`/app/campaigns/${encodeURIComponent(data.campaign.id)}`}>{t('campaigns.edit.toCampaign')}</Link>
      </section>
    );
  }
  return <Form campaign={data.campaign} templates={data.versions} projects={data.projects} />;
}

function Form({
  campaign,
  templates,
  projects,
}: {
  campaign: Campaign | undefined;
  templates: { template: { id: string; name: string }; versions: Version[] }[];
  projects: Project[];
}) {
  const { t, number } = useI18n();
  const [name, setName] = useState(campaign?.name ?? '');
  const [subject, setSubject] = useState(campaign?.subject ?? '');
  const [versionId, setVersionId] = useState(campaign?.templateVersionId ?? '');
  const [projectId, setProjectId] = useState(campaign?.projectId ?? '');
  const [timezone, setTimezone] = useState(campaign ? (campaign.timezone ?? '') : browserTimeZone());
  const [opens, setOpens] = useState(campaign?.tracking.opens ?? false);
  const [clicks, setClicks] = useState(campaign?.tracking.clicks ?? false);
  const [rows, setRows] = useState<Row[]>(() => rowsOf(campaign?.audienceFilter ?? null));
  const zones = useMemo(timeZones, []);
  const filter = filterOf(rows);
  const filterJson = JSON.stringify(filter);

  // The live count: POST /audience/count, 400 ms after the last change; an older answer never overwrites a newer one.
  const [count, setCount] = useState<{ value?: number; error?: unknown; busy: boolean }>({ busy: true });
  useEffect(() => {
    let live = true;
    setCount((c) => ({ ...c, busy: true }));
    const timer = setTimeout(() => {
      request(() => api.POST('/audience/count', { body: { filter: JSON.parse(filterJson) as Filter | null } })).then(
        (result) => live && setCount({ value: result.count, busy: false }),
        (error: unknown) => live && setCount({ error, busy: false }),
      );
    }, 400);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [filterJson]);

  // The version picker: one option per locale group (the base version), its locales with a published variant listed.
  const groups = templates.map(({ template, versions }) => {
    const byGroup = new Map<string, Version[]>();
    for (const v of versions) {
      const group = v.localeGroupId ?? v.id;
      byGroup.set(group, [...(byGroup.get(group) ?? []), v]);
    }
    const options = [...byGroup.entries()].map(([group, members]) => {
      const base = members.find((v) => v.id === group) ?? members[0]!;
      // The base first, then its variants by locale.
      members.sort((a, b) => (a === base ? -1 : b === base ? 1 : (a.locale ?? '').localeCompare(b.locale ?? '')));
      const published = members.filter((v) => v.status === 'PUBLISHED').map((v) => v.locale ?? '—');
      return { base, members, published };
    });
    // A campaign may point at a variant rather than a base: keep it choosable.
    for (const v of versions) {
      if (v.id === versionId && !options.some((o) => o.base.id === v.id)) options.push({ base: v, members: [v], published: v.status === 'PUBLISHED' ? [v.locale ?? '—'] : [] });
    }
    return { template, options };
  });
  const chosen = groups.flatMap((g) => g.options).find((o) => o.base.id === versionId);

  const save = useFormAction(async () => {
    const body = {
      name,
      subject: subject.trim() ? subject : null,
      templateVersionId: versionId || null,
      projectId: projectId || null,
      timezone: timezone || null,
      audienceFilter: filter,
      tracking: { opens, clicks },
    };
    const saved = campaign
      ? await request(() => api.PATCH('/campaigns/{id}', { params: { path: { id: campaign.id } }, body }))
      : await request(() => api.POST('/campaigns', { body }));
    navigate(`/app/campaigns/${encodeURIComponent(saved.id)}`);
  });
  const err = (field: string) => fieldError(save.error, field);
  const described = (field: string) => (err(field) ? { 'aria-describedby': `${field}-error`, 'aria-invalid': true as const } : {});

  const usedFields = new Set(rows.filter((r) => r.field !== 'attribute').map((r) => r.field));
  const update = (key: number, change: Partial<Row>) => setRows((all) => all.map((r) => (r.key === key ? { ...r, ...change } : r)));
  const addRow = (field: Row['field']) => setRows((all) => [...all, row(field, field === 'optIn' ? 'true' : '')]);

  return (
    <section>
      <p>
        <Link to={campaign ? `/app/campaigns/${encodeURIComponent(campaign.id)}` : '/app/campaigns'}>{campaign ? t('campaigns.edit.toCampaign') : t('campaign.back')}</Link>
      </p>
      <PageTitle>{campaign ? t('campaigns.edit.editTitle', { name: campaign.name }) : t('campaigns.edit.newTitle')}</PageTitle>
      <form className="form campaign-form" onSubmit={save.onSubmit} noValidate>
        <TextField id="name" label={t('campaigns.edit.name')} value={name} onChange={setName} required maxLength={200} {...described('name')} />
        <FieldError id="name-error" message={err('name')} />
        <TextField id="subject" label={t('campaigns.edit.subject')} value={subject} onChange={setSubject} maxLength={998} aria-describedby="subject-hint" />
        <p id="subject-hint" className="muted small">
          {t('campaigns.edit.subjectHint')}
        </p>
        <FieldError id="subject-error" message={err('subject')} />

        <div className="field">
          <label htmlFor="version">{t('campaigns.edit.version')}</label>
          <select id="version" value={versionId} onChange={(e) => setVersionId(e.target.value)} aria-describedby="version-hint" {...described('templateVersionId')}>
            <option value="">{t('campaigns.edit.noVersion')}</option>
            {groups.map(({ template, options }) => (
              <optgroup key={template.id} label={template.name}>
                {options.map(({ base, published }) => (
                  <option key={base.id} value={base.id}>
                    {t('campaigns.edit.versionOption', {
                      template: template.name,
                      subject: base.subject,
                      locale: base.locale ?? '—',
                      status: t(base.status === 'PUBLISHED' ? 'campaigns.edit.published' : 'campaigns.edit.draft'),
                      locales: published.length > 0 ? published.join(', ') : t('campaigns.edit.none'),
                    })}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
          <p id="version-hint" className="muted small">
            {t('campaigns.edit.versionHint')}
          </p>
          <FieldError id="templateVersionId-error" message={err('templateVersionId')} />
        </div>
        {chosen && (
          <div className="locale-variants" aria-live="polite">
            <p>{t('campaigns.edit.variants')}</p>
            <ul>
              {chosen.members.map((v) => (
                <li key={v.id}>
                  <strong>{v.locale ?? t('campaign.noLocale')}</strong>{' '}
                  {v.status === 'PUBLISHED' ? <span className="ok-text">✓ {t('campaigns.edit.published')}</span> : <span className="warning-text">{t('campaigns.edit.draftVariant')}</span>}
                </li>
              ))}
            </ul>
            {chosen.base.status !== 'PUBLISHED' && <p className="warning-text">{t('campaigns.edit.mustPublish')}</p>}
          </div>
        )}

        <div className="field">
          <label htmlFor="project">{t('campaigns.edit.project')}</label>
          <select id="project" value={projectId} onChange={(e) => setProjectId(e.target.value)} {...described('projectId')}>
            <option value="">{t('campaigns.edit.noProject')}</option>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.fromEmail})
              </option>
            ))}
          </select>
          <FieldError id="projectId-error" message={err('projectId')} />
        </div>

        <div className="field">
          <label htmlFor="timezone">{t('campaigns.edit.timezone')}</label>
          <select id="timezone" value={timezone} onChange={(e) => setTimezone(e.target.value)} aria-describedby="timezone-hint" {...described('timezone')}>
            <option value="">{t('campaigns.edit.noTimezone')}</option>
            {timezone && !zones.includes(timezone) && <option value={timezone}>{timezone}</option>}
            {zones.map((zone) => (
              <option key={zone} value={zone}>
                {zone}
              </option>
            ))}
          </select>
          <p id="timezone-hint" className="muted small">
            {t('campaigns.edit.timezoneHint')}
          </p>
          <FieldError id="timezone-error" message={err('timezone')} />
        </div>

        <fieldset className="audience">
          <legend>{t('campaigns.edit.audience')}</legend>
          <p className="muted small">{t('campaigns.edit.audienceHint')}</p>
          {rows.length === 0 && <p>{t('campaigns.edit.everyone')}</p>}
          <ul className="filter-rows">
            {rows.map((r, index) => (
              <li key={r.key}>
                <div className="filter-row" role="group" aria-label={t('campaigns.edit.condition', { n: index + 1 })}>
                <span className="filter-field">{t(`campaigns.edit.field.${r.field}`)}</span>
                {r.field === 'attribute' && (
                  <>
                    <label className="sr-only" htmlFor={`attr-${r.key}`}>
                      {t('campaigns.edit.attributeName')}
                    </label>
                    <input id={`attr-${r.key}`} value={r.attribute} placeholder={t('campaigns.edit.attributeName')} onChange={(e) => update(r.key, { attribute: e.target.value })} />
                    <label className="sr-only" htmlFor={`type-${r.key}`}>
                      {t('campaigns.edit.valueType')}
                    </label>
                    <select id={`type-${r.key}`} value={r.type} onChange={(e) => update(r.key, { type: e.target.value as Row['type'], value: e.target.value === 'boolean' ? 'true' : r.value })}>
                      <option value="text">{t('campaigns.edit.type.text')}</option>
                      <option value="number">{t('campaigns.edit.type.number')}</option>
                      <option value="boolean">{t('campaigns.edit.type.boolean')}</option>
                    </select>
                  </>
                )}
                <span className="filter-op">{t('campaigns.edit.is')}</span>
                <label className="sr-only" htmlFor={`value-${r.key}`}>
                  {t('campaigns.edit.value', { field: r.field === 'attribute' ? r.attribute || t('campaigns.edit.field.attribute') : t(`campaigns.edit.field.${r.field}`) })}
                </label>
                {r.field === 'optIn' || (r.field === 'attribute' && r.type === 'boolean') ? (
                  <select id={`value-${r.key}`} value={r.value} onChange={(e) => update(r.key, { value: e.target.value })}>
                    <option value="true">{t('campaigns.edit.yes')}</option>
                    <option value="false">{t('campaigns.edit.no')}</option>
                  </select>
                ) : r.field === 'projectId' ? (
                  <select id={`value-${r.key}`} value={r.value} onChange={(e) => update(r.key, { value: e.target.value })}>
                    <option value="">{t('campaigns.edit.chooseProject')}</option>
                    {projects.map((p) => (
                      <option key={p.id} value={p.id}>
                        {p.name}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    id={`value-${r.key}`}
                    value={r.value}
                    inputMode={r.type === 'number' ? 'decimal' : undefined}
                    placeholder={r.field === 'locale' ? 'es-MX' : undefined}
                    onChange={(e) => update(r.key, { value: e.target.value })}
                  />
                )}
                <button type="button" className="button-secondary" onClick={() => setRows((all) => all.filter((x) => x.key !== r.key))}>
                  {t('campaigns.edit.remove', { n: index + 1 })}
                </button>
                </div>
              </li>
            ))}
          </ul>
          <div className="filter-add">
            {(['locale', 'optIn', 'projectId', 'attribute'] as const)
              .filter((field) => field === 'attribute' || !usedFields.has(field))
              .map((field) => (
                <button key={field} type="button" className="button-secondary" onClick={() => addRow(field)}>
                  {t('campaigns.edit.add', { field: t(`campaigns.edit.field.${field}`) })}
                </button>
              ))}
          </div>
          <FieldError id="audienceFilter-error" message={err('audienceFilter')} />
          <p className="live-count" role="status" aria-live="polite">
            {count.error ? (
              <span className="warning-text">{t('campaigns.edit.countFailed')}</span>
            ) : count.value === undefined ? (
              t('campaigns.edit.counting')
            ) : (
              <>
                {count.value === 1 ? t('campaigns.edit.matchingOne') : t('campaigns.edit.matching', { count: number(count.value) })}
                {count.busy && <span className="muted"> {t('campaigns.edit.updating')}</span>}
              </>
            )}
          </p>
        </fieldset>

        <fieldset>
          <legend>{t('campaigns.edit.tracking')}</legend>
          <label className="checkbox">
            <input type="checkbox" checked={opens} onChange={(e) => setOpens(e.target.checked)} /> {t('campaigns.edit.opens')}
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={clicks} onChange={(e) => setClicks(e.target.checked)} /> {t('campaigns.edit.clicks')}
          </label>
        </fieldset>

        <ErrorMessage error={save.error} />
        <div className="actions">
          <button type="submit" disabled={save.busy}>
            {save.busy ? t('campaigns.edit.saving') : campaign ? t('campaigns.edit.save') : t('campaigns.edit.create')}
          </button>
        </div>
      </form>
    </section>
  );
}
