import { Button, Result } from "antd";
import { lazy, Suspense, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Link, Navigate, Route, Routes, useLocation, useSearchParams } from "react-router";
import { useAuth } from "../auth/AuthProvider";
import { PageLoading } from "../components/PageState";
import { useI18n } from "../i18n";
import { AppLayout } from "./AppLayout";
import { SCREENS, screenAllowed, type Screen } from "./routes";

const SignInPage = lazy(() => import("../pages/signin/SignInPage"));
const AuthCallbackPage = lazy(() => import("../pages/signin/AuthCallbackPage"));

function RequireSession({ children }: { children: ReactNode }) {
  const { session } = useAuth();
  const location = useLocation();
  if (!session) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/signin?next=${next}`} replace />;
  }
  return <>{children}</>;
}

function Forbidden() {
  const { t } = useI18n();
  return <Result status="403" title="403" subTitle={t("app.forbidden")} extra={<Link to="/"><Button>{t("app.backHome")}</Button></Link>} />;
}

function NotFound() {
  const { t } = useI18n();
  return <Result status="404" title="404" subTitle={t("app.notFound")} extra={<Link to="/"><Button>{t("app.backHome")}</Button></Link>} />;
}

/** A screen's page; its prefetch runs in render, before the lazily loaded page suspends on its chunk. */
function ScreenPage({ screen }: { screen: Screen }) {
  const qc = useQueryClient();
  const [params] = useSearchParams();
  screen.prefetch?.(qc, params);
  const Page = screen.page;
  return <Page />;
}

export function App() {
  const { can } = useAuth();
  return (
    <Suspense fallback={<PageLoading />}>
      <Routes>
        <Route path="/signin" element={<SignInPage />} />
        <Route path="/auth/callback" element={<AuthCallbackPage />} />
        <Route element={<RequireSession><AppLayout /></RequireSession>}>
          {SCREENS.map((s) => {
            const allowed = screenAllowed(s, can);
            return <Route key={s.path} path={s.path === "/" ? undefined : s.path} index={s.path === "/"} element={allowed ? <ScreenPage screen={s} /> : <Forbidden />} />;
          })}
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </Suspense>
  );
}
