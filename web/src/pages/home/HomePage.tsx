// Home: workflow node counts with click-through, account-opening duration and success rate over a chosen
// interval, shortcuts, changelog (seed 002 "Home Dashboard"; the summary service's dashboard API).
import { Alert, Col, Row, Typography } from "antd";
import { useAuth } from "../../auth/AuthProvider";
import { useI18n } from "../../i18n";
import { AccountOpeningCard } from "./AccountOpeningCard";
import { ChangelogCard } from "./ChangelogCard";
import { NodeCountsCard } from "./NodeCountsCard";
import { ShortcutsCard } from "./ShortcutsCard";

export default function HomePage() {
  const { t } = useI18n();
  const { can } = useAuth();
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("home.title")}</Typography.Title>
      {can("ClientProfileReadOnly") ? (
        <Row gutter={[16, 16]}>
          <Col span={16}>
            <NodeCountsCard />
            <div style={{ height: 16 }} />
            <AccountOpeningCard />
          </Col>
          <Col span={8}>
            <ShortcutsCard />
            <div style={{ height: 16 }} />
            <ChangelogCard />
          </Col>
        </Row>
      ) : (
        <Alert type="info" showIcon message={t("app.forbidden")} />
      )}
    </>
  );
}
