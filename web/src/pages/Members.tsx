import { useState, type FormEvent } from 'react';
import { api, request, type Role } from '../api';
import { ActionFeedback, ConfirmButton, LoadState, PageTitle, TextField, useAction, useLoad } from '../components';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import { SettingsNav } from '../settings-nav';

const ROLES: Role[] = ['owner', 'admin', 'editor', 'viewer'];

/**
 * Members and pending invitations (members:manage): invite, change a role,
 * remove, resend or cancel an invitation. The owner rules are the API's
 * (docs/ACCOUNTS.md): its refusal (OWNER_PROTECTED, LAST_OWNER) is shown as is.
 */
export default function Members() {
  const { t, date } = useI18n();
  const { me, role } = useSession();
  const tenantId = me?.currentTenantId ?? '';
  const { data, error, reload } = useLoad(() => request(() => api.GET('/tenants/{id}/members', { params: { path: { id: tenantId } } })), [tenantId]);
  const [email, setEmail] = useState('');
  const [inviteRole, setInviteRole] = useState<Role>('editor');
  const action = useAction();
  // Only an owner makes an owner: an admin is not offered the choice.
  const assignable = role === 'owner' ? ROLES : ROLES.filter((r) => r !== 'owner');

  const invite = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const invited = await request(() => api.POST('/tenants/{id}/members', { params: { path: { id: tenantId } }, body: { email, role: inviteRole } }));
      setEmail('');
      reload();
      return t('members.invited', { email: invited.email });
    });
  };
  const changeRole = (userId: string, memberEmail: string, next: Role) =>
    void action.run(async () => {
      await request(() => api.PATCH('/tenants/{id}/members/{userId}', { params: { path: { id: tenantId, userId } }, body: { role: next } }));
      reload();
      return t('members.roleChanged', { email: memberEmail, role: t(`role.${next}`) });
    });
  const remove = async (userId: string, memberEmail: string) => {
    await request(() => api.DELETE('/tenants/{id}/members/{userId}', { params: { path: { id: tenantId, userId } } }));
    action.done(t('members.removed', { email: memberEmail }));
    reload();
  };
  const resend = (invitationId: string, invitedEmail: string) =>
    void action.run(async () => {
      await request(() => api.POST('/tenants/{id}/invitations/{invitationId}/resend', { params: { path: { id: tenantId, invitationId } } }));
      reload();
      return t('members.resent', { email: invitedEmail });
    });
  const cancel = async (invitationId: string, invitedEmail: string) => {
    await request(() => api.DELETE('/tenants/{id}/invitations/{invitationId}', { params: { path: { id: tenantId, invitationId } } }));
    action.done(t('members.cancelled', { email: invitedEmail }));
    reload();
  };

  return (
    <section>
      <SettingsNav />
      <PageTitle>{t('members.title')}</PageTitle>
      <p className="muted">{t('members.intro')}</p>
      <form className="card form-card inline-form" aria-labelledby="member-invite" onSubmit={invite}>
        <h2 id="member-invite">{t('members.invite')}</h2>
        <TextField id="invite-email" label={t('members.email')} type="email" required value={email} onChange={setEmail} />
        <div className="field">
          <label htmlFor="invite-role">{t('members.role')}</label>
          <select id="invite-role" value={inviteRole} onChange={(e) => setInviteRole(e.target.value as Role)}>
            {assignable.map((r) => (
              <option key={r} value={r}>
                {t(`role.${r}`)}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={action.busy}>
          {t('members.inviteSubmit')}
        </button>
      </form>
      <ActionFeedback action={action} />
      <LoadState data={data} error={error} reload={reload} />
      {data && (
        <>
          <table className="table stack" aria-label={t('members.title')}>
            <thead>
              <tr>
                <th scope="col">{t('members.email')}</th>
                <th scope="col">{t('members.role')}</th>
                <th scope="col">{t('members.since')}</th>
                <th scope="col">{t('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {data.data.map((member) => (
                <tr key={member.userId}>
                  <th scope="row" className="break">
                    {member.email} {member.userId === me?.user.id && <span className="muted">{t('members.you')}</span>}
                  </th>
                  <td>
                    <select
                      aria-label={t('members.roleOf', { email: member.email })}
                      value={member.role}
                      disabled={action.busy}
                      onChange={(e) => changeRole(member.userId, member.email, e.target.value as Role)}
                    >
                      {(member.role === 'owner' ? ROLES : assignable).map((r) => (
                        <option key={r} value={r}>
                          {t(`role.${r}`)}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td data-label={t('members.since')}>{date(member.since)}</td>
                  <td>
                    <ConfirmButton
                      label={t('members.remove')}
                      question={t('members.removeConfirm', { email: member.email })}
                      onConfirm={() => remove(member.userId, member.email)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2 id="invitations-title">{t('members.invitations')}</h2>
          {data.invitations.length === 0 ? (
            <p>{t('members.noInvitations')}</p>
          ) : (
            <table className="table stack" aria-labelledby="invitations-title">
              <thead>
                <tr>
                  <th scope="col">{t('members.email')}</th>
                  <th scope="col">{t('members.role')}</th>
                  <th scope="col">{t('members.expires')}</th>
                  <th scope="col">{t('common.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {data.invitations.map((invitation) => (
                  <tr key={invitation.id}>
                    <th scope="row" className="break">
                      {invitation.email}
                    </th>
                    <td data-label={t('members.role')}>{t(`role.${invitation.role}`)}</td>
                    <td data-label={t('members.expires')}>{date(invitation.expiresAt)}</td>
                    <td>
                      <div className="row-actions">
                        <button type="button" className="button-secondary" disabled={action.busy} onClick={() => resend(invitation.id, invitation.email)}>
                          {t('members.resend')}
                        </button>
                        <ConfirmButton
                          label={t('members.cancelInvitation')}
                          question={t('members.cancelConfirm', { email: invitation.email })}
                          onConfirm={() => cancel(invitation.id, invitation.email)}
                        />
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
