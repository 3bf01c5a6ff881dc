// OpenID Connect authorization code flow with PKCE (RFC 7636) for a public client: no client secret in the
// browser. The identity provider issues RS256 access tokens that the services verify with its JWKS.
import type { OidcConfig } from "./config";

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
}

const PENDING = "whale.oidc.pending";
export const CALLBACK_PATH = "/auth/callback";

function b64url(bytes: Uint8Array): string {
  let s = "";
  bytes.forEach((b) => (s += String.fromCharCode(b)));
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function randomString(bytes = 32): string {
  return b64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function pkceChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return b64url(new Uint8Array(digest));
}

async function discover(issuer: string, fetcher: typeof fetch): Promise<Discovery> {
  const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  const res = await fetcher(url);
  if (!res.ok) throw new Error(`OpenID discovery failed (${res.status})`);
  return (await res.json()) as Discovery;
}

function redirectUri(): string {
  return `${window.location.origin}${CALLBACK_PATH}`;
}

/** Redirect to the identity provider. `returnTo` is where to land after signing in. */
export async function beginSignIn(cfg: OidcConfig, returnTo: string, fetcher: typeof fetch = fetch): Promise<string> {
  const d = await discover(cfg.issuer, fetcher);
  const verifier = randomString(48);
  const state = randomString(16);
  const nonce = randomString(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce, returnTo }));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: cfg.clientId,
    redirect_uri: redirectUri(),
    scope: cfg.scope ?? "openid profile",
    state,
    nonce,
    code_challenge: await pkceChallenge(verifier),
    code_challenge_method: "S256",
    ...(cfg.extraParams ?? {}),
  });
  return `${d.authorization_endpoint}?${params}`;
}

export interface TokenResult {
  accessToken: string;
  idToken?: string;
  returnTo: string;
}

/** Finish on the callback page: check `state`, exchange the code (with the PKCE verifier) for tokens. */
export async function completeSignIn(cfg: OidcConfig, search: string, fetcher: typeof fetch = fetch): Promise<TokenResult> {
  const q = new URLSearchParams(search);
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (q.get("error")) throw new Error(`${q.get("error")}: ${q.get("error_description") ?? ""}`.trim());
  if (!raw) throw new Error("no sign-in in progress");
  const pending = JSON.parse(raw) as { verifier: string; state: string; returnTo: string };
  if (q.get("state") !== pending.state) throw new Error("state mismatch");
  const code = q.get("code");
  if (!code) throw new Error("no authorization code");
  const d = await discover(cfg.issuer, fetcher);
  const res = await fetcher(d.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri(),
      client_id: cfg.clientId,
      code_verifier: pending.verifier,
    }),
  });
  if (!res.ok) throw new Error(`token exchange failed (${res.status})`);
  const body = (await res.json()) as { access_token?: string; id_token?: string };
  if (!body.access_token) throw new Error("no access token");
  return { accessToken: body.access_token, idToken: body.id_token, returnTo: pending.returnTo || "/" };
}

export async function endSessionUrl(cfg: OidcConfig, idToken: string | undefined, fetcher: typeof fetch = fetch): Promise<string | null> {
  const d = await discover(cfg.issuer, fetcher);
  if (!d.end_session_endpoint) return null;
  const params = new URLSearchParams({ client_id: cfg.clientId, post_logout_redirect_uri: window.location.origin });
  if (idToken) params.set("id_token_hint", idToken);
  return `${d.end_session_endpoint}?${params}`;
}
