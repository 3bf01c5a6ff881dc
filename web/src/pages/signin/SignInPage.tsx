import { LoginOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Alert, Button, Card, List, Space, Typography } from "antd";
import { useState } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { useAuth } from "../../auth/AuthProvider";
import { beginSignIn } from "../../auth/oidc";
import { makeSession } from "../../auth/session";
import { PageLoading, ProblemAlert } from "../../components/PageState";
import { LANGS, useI18n } from "../../i18n";
import { devSignIn, devUsers } from "./devSignIn";
import { Logo } from "../../components/Logo";

export default function SignInPage() {
  const { t, label, lang, setLang } = useI18n();
  const { config, session, setSession } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const next = params.get("next") || "/";
  const [error, setError] = useState<unknown>(null);
  const users = useQuery({ queryKey: ["dev-signin-users"], queryFn: devUsers, enabled: !!config?.devSignIn });

  if (session) return <Navigate to={next} replace />;
  if (!config) return <PageLoading />;

  const pick = async (role: string) => {
    try {
      setSession(makeSession(await devSignIn(role), "dev"));
      navigate(next, { replace: true });
    } catch (e) {
      setError(e);
    }
  };
  const oidc = async () => {
    try {
      window.location.assign(await beginSignIn(config.oidc!, next));
    } catch (e) {
      setError(e);
    }
  };

  return (
    <main style={{ display: "flex", justifyContent: "center", paddingTop: 64, minHeight: "100vh", background: "#f5f5f5" }}>
      <Card style={{ width: 560, height: "fit-content" }}>
        <Space direction="vertical" size="large" style={{ width: "100%" }}>
          <Space style={{ justifyContent: "space-between", width: "100%" }}>
            <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}><Logo />{t("signin.title")}</Typography.Title>
            <Space>
              {LANGS.map((l) => (
                <Button key={l.value} type={l.value === lang ? "primary" : "default"} size="small" lang={l.htmlLang} onClick={() => setLang(l.value)}>
                  {l.label}
                </Button>
              ))}
            </Space>
          </Space>
          {params.get("expired") && <Alert type="warning" showIcon message={t("signin.expired")} />}
          {error != null && <ProblemAlert error={error} />}
          {config.oidc && (
            <Button type="primary" size="large" icon={<LoginOutlined />} block onClick={() => void oidc()} data-testid="signin-oidc">
              {t("signin.oidc")}
            </Button>
          )}
          {config.devSignIn && (
            <section aria-labelledby="dev-signin">
              <Typography.Title level={2} id="dev-signin" style={{ fontSize: 18 }}>{t("signin.dev")}</Typography.Title>
              <Typography.Paragraph type="secondary">{t("signin.devHint")}</Typography.Paragraph>
              {users.isError ? <ProblemAlert error={users.error} onRetry={() => void users.refetch()} /> : (
                <List
                  loading={users.isPending}
                  dataSource={users.data ?? []}
                  renderItem={(u) => (
                    <List.Item
                      actions={[<Button key="go" type="primary" onClick={() => void pick(u.role)} data-testid={`signin-${u.role}`}
                        aria-label={`${t("signin.dev")}: ${label("role", u.role)} (${u.user_id})`}>{label("role", u.role)}</Button>]}
                    >
                      <List.Item.Meta title={`${label("role", u.role)} · ${u.user_id}`} description={u.description} />
                    </List.Item>
                  )}
                />
              )}
            </section>
          )}
          {!config.oidc && !config.devSignIn && <Alert type="error" showIcon message={t("signin.unavailable")} />}
        </Space>
      </Card>
    </main>
  );
}
