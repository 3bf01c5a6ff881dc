import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ACTIONS, meets, TABS, type Action, type TabName } from "./catalogue";
import { loadConfig, type ConsoleConfig } from "./config";
import { endSessionUrl } from "./oidc";
import type { Perm } from "./perms";
import { can as canDo, isExpired, loadSession, saveSession, setCurrentSession, type Session } from "./session";

interface Auth {
  config: ConsoleConfig | null;
  session: Session | null;
  setSession: (s: Session | null) => void;
  signOut: () => Promise<void>;
  can: (perm: Perm) => boolean;
  /** whether the caller may use an action button (its permission from the catalogue, auth/catalogue.ts) */
  may: (action: Action) => boolean;
  /** whether the caller may read a tab (its permission from the catalogue's TABS) */
  sees: (tab: TabName) => boolean;
}

const AuthContext = createContext<Auth | null>(null);
export const SESSION_EXPIRED_EVENT = "whale:session-expired";

export function AuthProvider({ children, initial, config: fixedConfig }: {
  children: ReactNode;
  /** tests pass a session and config instead of reading storage / the gateway */
  initial?: Session | null;
  config?: ConsoleConfig;
}) {
  const [session, setSessionState] = useState<Session | null>(() => {
    const s = initial !== undefined ? initial : loadSession();
    setCurrentSession(s);
    return s;
  });
  const [config, setConfig] = useState<ConsoleConfig | null>(fixedConfig ?? null);

  useEffect(() => {
    if (fixedConfig) return;
    loadConfig().then(setConfig, () => setConfig({}));
  }, [fixedConfig]);

  const setSession = useCallback((s: Session | null) => {
    saveSession(s);
    setCurrentSession(s);
    setSessionState(s);
  }, []);

  useEffect(() => {
    const expired = () => setSession(null);
    window.addEventListener(SESSION_EXPIRED_EVENT, expired);
    const timer = window.setInterval(() => {
      if (session && isExpired(session)) expired();
    }, 30_000);
    return () => {
      window.removeEventListener(SESSION_EXPIRED_EVENT, expired);
      window.clearInterval(timer);
    };
  }, [session, setSession]);

  const signOut = useCallback(async () => {
    const s = session;
    setSession(null);
    if (s?.via === "oidc" && config?.oidc) {
      const url = await endSessionUrl(config.oidc, s.idToken).catch(() => null);
      if (url) window.location.assign(url);
    }
  }, [session, config, setSession]);

  const value = useMemo<Auth>(
    () => {
      const can = (p: Perm) => canDo(session, p);
      return { config, session, setSession, signOut, can, may: (a: Action) => meets(ACTIONS[a], can),
        sees: (tab: TabName) => meets(TABS[tab], can) };
    },
    [config, session, setSession, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("useAuth outside AuthProvider");
  return ctx;
}
