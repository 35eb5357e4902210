import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, request, setCsrfToken, type Me, type Role } from './api';

/** The signed-in account (GET /me), or null when signed out; undefined while loading. */
interface Session {
  me: Me | null | undefined;
  /** An error other than "not signed in" while loading (e.g. the server is down). */
  error: unknown;
  setMe(me: Me | null): void;
  reload(): Promise<void>;
  role: Role | undefined;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMeState] = useState<Me | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const setMe = useCallback((next: Me | null) => {
    setCsrfToken(next?.csrfToken);
    setMeState(next);
  }, []);
  const reload = useCallback(async () => {
    setError(undefined);
    try {
      setMe(await request(() => api.GET('/me')));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setMe(null);
      else setError(err);
    }
  }, [setMe]);
  useEffect(() => {
    void reload();
  }, [reload]);
  const role = me?.tenants.find((tenant) => tenant.id === me.currentTenantId)?.role;
  return <SessionContext.Provider value={{ me, error, setMe, reload, role }}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** Roles that hold campaigns:send (docs/ACCOUNTS.md): editors prepare, admins and owners send. */
export const canSend = (role: Role | undefined) => role === 'owner' || role === 'admin';

/** Roles that hold contacts:write and templates:write (docs/ACCOUNTS.md): editors, admins and owners; viewers only read. */
export const canEdit = (role: Role | undefined) => role === 'owner' || role === 'admin' || role === 'editor';
