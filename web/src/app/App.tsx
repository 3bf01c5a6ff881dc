import { Button, Result } from "antd";
import { lazy, Suspense, type ReactNode } from "react";
import { Link, Navigate, Route, Routes, useLocation } from "react-router";
import { useAuth } from "../auth/AuthProvider";
import { PageLoading } from "../components/PageState";
import { useI18n } from "../i18n";
import { AppLayout } from "./AppLayout";
import { SCREENS, screenAllowed } from "./routes";

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

export function App() {
  const { can } = useAuth();
  return (
    <Suspense fallback={<PageLoading />}>
      <Routes>
        <Route path="/signin" element={<SignInPage />} />
        <Route path="/auth/callback" element={<AuthCallbackPage />} />
        <Route element={<RequireSession><AppLayout /></RequireSession>}>
          {SCREENS.map((s) => {
            const Page = s.page;
            const allowed = screenAllowed(s, can);
            return <Route key={s.path} path={s.path === "/" ? undefined : s.path} index={s.path === "/"} element={allowed ? <Page /> : <Forbidden />} />;
          })}
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </Suspense>
  );
}
