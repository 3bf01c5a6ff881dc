// Test harness: the console's providers around a component, with a given role's session and URL.
import { render } from "@testing-library/react";
import type { QueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { makeQueryClient, QueryProvider, ThemedAntd } from "../app/Providers";
import { AuthProvider } from "../auth/AuthProvider";
import { ROLE_PERMS } from "./roles";
import type { Role } from "../auth/perms";
import { makeSession, type Session } from "../auth/session";
import { I18nProvider, type Lang } from "../i18n";

function b64url(s: string): string {
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** An unsigned token carrying a role's claims (the console only reads claims; the API verifies). */
export function sessionFor(role: Role, user = `u-${role}`): Session {
  const claims = { sub: user, roles: [role], perms: ROLE_PERMS[role], scope: "all", exp: Math.floor(Date.now() / 1000) + 3600 };
  return makeSession(`${b64url("{}")}.${b64url(JSON.stringify(claims))}.sig`, "dev");
}

export let currentLocation: { pathname: string; search: string } = { pathname: "/", search: "" };
function LocationSpy() {
  const loc = useLocation();
  currentLocation = { pathname: loc.pathname, search: loc.search };
  return null;
}

export function testQueryClient(): QueryClient {
  const qc = makeQueryClient();
  qc.setDefaultOptions({ queries: { retry: false, staleTime: 0 } });
  return qc;
}

export function renderWith(ui: ReactNode, { role = "admin", session, url = "/", path = "*", lang = "en", client }: {
  role?: Role | null; /** a session built otherwise (an OpenID Connect one with rights), instead of the role's */
  session?: Session; url?: string; path?: string; lang?: Lang; client?: QueryClient;
} = {}) {
  const qc = client ?? testQueryClient();
  return render(
    <I18nProvider lang={lang}>
      <ThemedAntd>
        <QueryProvider client={qc}>
          <AuthProvider initial={session ?? (role ? sessionFor(role) : null)} config={{ devSignIn: true }}>
            <MemoryRouter initialEntries={[url]}>
              <LocationSpy />
              <Routes>
                <Route path={path} element={ui} />
              </Routes>
            </MemoryRouter>
          </AuthProvider>
        </QueryProvider>
      </ThemedAntd>
    </I18nProvider>,
  );
}

/** Replace fetch with a router of JSON answers; returns the requests seen. */
export function mockFetch(routes: Record<string, (url: URL, init?: RequestInit) => unknown>) {
  const seen: { method: string; url: URL; body: unknown; headers: Headers }[] = [];
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(req.url);
    const body = req.method === "GET" ? undefined : await req.clone().text().then((t) => (t ? JSON.parse(t) : undefined));
    seen.push({ method: req.method, url, body, headers: req.headers });
    const key = Object.keys(routes).find((k) => {
      const [m, p] = k.split(" ");
      return m === req.method && url.pathname === p;
    });
    if (!key) return new Response(JSON.stringify({ title: "Not Found", status: 404 }), { status: 404, headers: { "Content-Type": "application/problem+json" } });
    const out = routes[key](url, init);
    if (out instanceof Response) return out;
    return new Response(JSON.stringify(out), { status: 200, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
  return seen;
}
