// Home: workflow node counts with click-through, account-opening duration and success rate over a chosen
// interval, shortcuts, changelog (seed 002 "Home Dashboard"; the summary service's dashboard API); for a caller
// whose scope is above one team, the brokerage's today rolled up the organisation tree (Today's Summary's
// "By organisation level" section, the same component: ?levels= keeps the level).
import { Alert, Col, Row, Typography } from "antd";
import { useAuth } from "../../auth/AuthProvider";
import { useBrokerageDay } from "../../hooks/useBrokerageDay";
import { useI18n } from "../../i18n";
import { RollupSection, seesLevels } from "../summary/RollupSection";
import { AccountOpeningCard } from "./AccountOpeningCard";
import { ChangelogCard } from "./ChangelogCard";
import { NodeCountsCard } from "./NodeCountsCard";
import { ShortcutsCard } from "./ShortcutsCard";

export default function HomePage() {
  const { t } = useI18n();
  const { can, session } = useAuth();
  const levels = can("ClientProfileReadOnly") && seesLevels(session);
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
          {levels && <Col span={24}><HomeRollup /></Col>}
        </Row>
      ) : (
        <Alert type="info" showIcon message={t("app.forbidden")} />
      )}
    </>
  );
}

/** The roll-up of the brokerage's today (not the browser's), once the summary service has said which day it is. */
function HomeRollup() {
  const clock = useBrokerageDay();
  return clock.data ? <RollupSection day={clock.data.today} /> : null;
}
