import type { MemberRole } from '../db/enums.js';
import { AppError } from '../shared/errors.js';

/**
 * Who may change whom (pure). Only an owner creates, changes or removes an
 * owner: an admin — or an API key with `members:manage`, which acts as an
 * admin — may manage admins, editors and viewers, never owners. That an
 * owner remains after a change is checked by the members service in the
 * change's transaction (`LAST_OWNER`).
 */
export type ActorRole = MemberRole | 'key';

const isOwner = (actor: ActorRole) => actor === 'owner';

/** Undefined when allowed, else the 403 to answer. */
export function refuseMemberChange(
  actor: ActorRole,
  change: { targetRole?: MemberRole | undefined; newRole?: MemberRole | undefined },
): AppError | undefined {
  if (isOwner(actor)) return undefined;
  if (change.targetRole === 'owner') {
    return new AppError(403, 'OWNER_PROTECTED', 'Only an owner can change or remove an owner');
  }
  if (change.newRole === 'owner') {
    return new AppError(403, 'OWNER_PROTECTED', 'Only an owner can make someone an owner');
  }
  return undefined;
}
