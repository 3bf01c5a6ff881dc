// The signed-in session: the bearer token the services verify, and its claims (read, never trusted: the
// services verify the signature). Kept in sessionStorage: one tab, gone when the browser closes.
import type { Perm, Scope } from "./perms";

export interface Claims {
  sub: string;
  roles: string[];
  perms: string[];
  scope: Scope;
  team?: string | null;
  teams?: string[];
  exp: number;
  name?: string;
}

/** The caller's rights from the access service (GET /access/me): an OpenID Connect provider's token names the
 * person only, so the console asks what they may do (the services decide the same from their directory). */
export interface Rights {
  staff_id: string;
  roles: string[];
  permissions: string[];
  scope: Scope;
  teams: string[];
  team_id?: string | null;
}

export interface Session {
  token: string;
  claims: Claims;
  /** how the session was obtained: OpenID Connect or the development sign-in */
  via: "oidc" | "dev";
  idToken?: string;
  rights?: Rights;
}

const KEY = "whale.session";

function b64urlDecode(part: string): string {
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

export function decodeClaims(token: string): Claims {
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error("not a JWT");
  const raw = JSON.parse(b64urlDecode(parts[1])) as Partial<Claims> & Record<string, unknown>;
  if (typeof raw.sub !== "string" || typeof raw.exp !== "number") throw new Error("token without sub/exp");
  return {
    // the staff id: an OpenID Connect provider's `sub` is opaque, its `staff_id` claim names the member
    sub: typeof raw.staff_id === "string" ? raw.staff_id : raw.sub,
    roles: Array.isArray(raw.roles) ? raw.roles.map(String) : [],
    perms: Array.isArray(raw.perms) ? raw.perms.map(String) : [],
    scope: raw.scope === "all" || raw.scope === "team" ? raw.scope : "own",
    team: typeof raw.team === "string" ? raw.team : null,
    teams: Array.isArray(raw.teams) ? raw.teams.map(String) : [],
    exp: raw.exp,
    name: typeof raw.name === "string" ? raw.name : undefined,
  };
}

export function makeSession(token: string, via: Session["via"], idToken?: string, rights?: Rights): Session {
  const claims = decodeClaims(token);
  if (!rights) return { token, claims, via, idToken };
  return {
    token, via, idToken, rights,
    claims: { ...claims, roles: rights.roles, perms: rights.permissions, scope: rights.scope, teams: rights.teams,
      team: rights.team_id ?? null },
  };
}

export function isExpired(s: Session, now = Date.now()): boolean {
  return s.claims.exp * 1000 <= now;
}

export function can(s: Session | null, perm: Perm): boolean {
  return !!s && s.claims.perms.includes(perm);
}

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    const fresh = makeSession(s.token, s.via, s.idToken, s.rights);
    return isExpired(fresh) ? null : fresh;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify({ token: s.token, via: s.via, idToken: s.idToken, rights: s.rights }));
  else sessionStorage.removeItem(KEY);
}

/** The current token for the API clients (outside React). */
let current: Session | null = null;
export function setCurrentSession(s: Session | null): void {
  current = s;
}
export function currentToken(): string | null {
  return current && !isExpired(current) ? current.token : null;
}
