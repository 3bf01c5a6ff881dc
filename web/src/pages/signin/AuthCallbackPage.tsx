import { useEffect, useRef, useState } from "react";
import { Alert, Button, Result } from "antd";
import { Link, useNavigate } from "react-router";
import { useAuth } from "../../auth/AuthProvider";
import { completeSignIn } from "../../auth/oidc";
import { baseUrl } from "../../api/clients";
import { makeSession, type Rights } from "../../auth/session";
import { PageLoading } from "../../components/PageState";
import { useI18n } from "../../i18n";

/** What the access service says the signed-in member may do (none when it cannot answer: the console then shows
 * only what needs no permission, and the services refuse the rest). */
async function myRights(token: string): Promise<Rights | undefined> {
  const res = await fetch(`${baseUrl("access")}/access/me`, { headers: { Authorization: `Bearer ${token}` } }).catch(() => null);
  return res?.ok ? ((await res.json()) as Rights) : undefined;
}

/** The identity provider redirects here with ?code&state; exchange the code (PKCE) and go on. */
export default function AuthCallbackPage() {
  const { t } = useI18n();
  const { config, setSession } = useAuth();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);

  useEffect(() => {
    if (!config?.oidc || started.current) return;
    started.current = true;
    completeSignIn(config.oidc, window.location.search)
      .then(async (r) => {
        setSession(makeSession(r.accessToken, "oidc", r.idToken, await myRights(r.accessToken)));
        navigate(r.returnTo, { replace: true });
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [config, navigate, setSession]);

  if (error || (config && !config.oidc)) {
    return (
      <main>
        <Result status="error" title={t("signin.failed")}
          extra={<Link to="/signin"><Button type="primary">{t("signin.title")}</Button></Link>}>
          <Alert type="error" message={error ?? t("signin.unavailable")} />
        </Result>
      </main>
    );
  }
  return <main aria-label={t("signin.completing")}><PageLoading /></main>;
}
