import { GlobalOutlined, LogoutOutlined, UserOutlined } from "@ant-design/icons";
import { Button, Layout, Menu, Select, Space, Typography } from "antd";
import { memo, Suspense } from "react";
import { Link, Outlet, useLocation } from "react-router";
import { useAuth } from "../auth/AuthProvider";
import { PageLoading } from "../components/PageState";
import { LANGS, useI18n, type Lang } from "../i18n";
import { allowedScreens } from "./routes";
import { Logo } from "../components/Logo";

const { Header, Sider, Content } = Layout;

/** The side menu: the screens the role may open, the current one selected. Re-rendered only when the
 * selected screen changes (a new page of a list or an opened drawer changes the URL, not the screen). */
function SideMenu() {
  const { can } = useAuth();
  const location = useLocation();
  const screens = allowedScreens(can).filter((s) => s.inMenu);
  const selected = screens
    .filter((s) => (s.path === "/" ? location.pathname === "/" : location.pathname.startsWith(s.path)))
    .map((s) => s.path);
  return <SideMenuItems selected={selected.join(" ")} />;
}

const SideMenuItems = memo(function SideMenuItems({ selected }: { selected: string }) {
  const { t } = useI18n();
  const { can } = useAuth();
  const screens = allowedScreens(can).filter((s) => s.inMenu);
  return (
    <Sider width={220} breakpoint="lg" collapsedWidth={64} theme="light" style={{ borderRight: "1px solid #f0f0f0" }}>
      <div style={{ padding: "16px 20px", fontWeight: 600, fontSize: 18 }}>
        <Link to="/" style={{ color: "inherit" }}><Logo />{t("app.title")}</Link>
      </div>
      <nav aria-label={t("menu.crm")}>
        <Menu
          mode="inline"
          selectedKeys={selected ? selected.split(" ") : []}
          items={screens.map((s) => ({ key: s.path, icon: s.icon, label: <Link to={s.path}>{t(s.labelKey)}</Link> }))}
        />
      </nav>
    </Sider>
  );
});

export function AppLayout() {
  const { t, lang, setLang, label } = useI18n();
  const { session, signOut } = useAuth();
  const role = session?.claims.roles[0];

  return (
    <Layout style={{ minHeight: "100vh" }}>
      <a className="skip-link" href="#main">{t("app.skip")}</a>
      <SideMenu />
      <Layout>
        <Header style={{ background: "#fff", padding: "0 24px", borderBottom: "1px solid #f0f0f0", display: "flex", justifyContent: "flex-end", alignItems: "center" }}>
          <Space size="middle">
            <Space>
              <GlobalOutlined aria-hidden />
              <Select<Lang>
                aria-label={t("app.language")}
                value={lang}
                onChange={setLang}
                options={LANGS.map((l) => ({ value: l.value, label: l.label }))}
                style={{ width: 120 }}
                data-testid="language"
              />
            </Space>
            <Typography.Text data-testid="whoami">
              <UserOutlined aria-hidden /> {t("app.signedInAs", { user: session?.claims.name ?? session?.claims.sub ?? "", role: label("role", role) })}
            </Typography.Text>
            <Button icon={<LogoutOutlined />} onClick={() => void signOut()}>{t("app.signOut")}</Button>
          </Space>
        </Header>
        <Content id="main" tabIndex={-1} style={{ padding: 24, minWidth: 0 }}>
          <main>
            <Suspense fallback={<PageLoading />}>
              <Outlet />
            </Suspense>
          </main>
        </Content>
      </Layout>
    </Layout>
  );
}
