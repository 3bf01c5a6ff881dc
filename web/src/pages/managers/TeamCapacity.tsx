// Load against capacity per team (GET /teams/capacity): a bar of the active managers' load against their capacity,
// the free places routing may still fill, and how many managers are active.
import { Card, Empty, Progress, Space, Table, Typography } from "antd";
import { useI18n } from "../../i18n";
import type { TeamCapacity as Row } from "../../services/assignment";
import { barColor, barPercent, barStatus, percentLabel } from "./capacity";

export function TeamCapacity({ teams, loading }: { teams: Row[]; loading?: boolean }) {
  const { t } = useI18n();
  return (
    <Card size="small" title={t("capacity.title")} style={{ marginBottom: 12 }} data-testid="team-capacity">
      <Table<Row> rowKey={(r) => r.team_id ?? ""} size="small" pagination={false} dataSource={teams} loading={loading}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("capacity.empty")} /> }}
        columns={[
          { title: t("managers.team"), key: "team", render: (_, r) => (
            <><Typography.Text strong>{r.name ?? r.team_id ?? t("capacity.noTeam")}</Typography.Text>
              <div style={{ fontSize: 12, color: "#595959" }}>{t("capacity.active", { active: r.active_managers, n: r.managers })}</div></>) },
          { title: t("managers.load"), key: "load", width: 260, render: (_, r) => {
            const name = r.name ?? r.team_id ?? t("capacity.noTeam");
            return (
              <Space direction="vertical" size={0} style={{ width: "100%" }} data-testid={`team-capacity-${r.team_id ?? "none"}`}>
                <Progress percent={barPercent(r.utilisation)} status={barStatus(r.utilisation)} strokeColor={barColor(r.utilisation)}
                  size="small" showInfo={false} aria-label={t("capacity.barFor", { name })} aria-valuenow={barPercent(r.utilisation)} />
                <span>{t("managers.loadOf", { load: r.load, capacity: r.capacity })}</span>
              </Space>);
          } },
          { title: t("capacity.idle"), dataIndex: "idle", align: "right" },
          { title: t("capacity.utilisation"), key: "u", align: "right", render: (_, r) => percentLabel(r.utilisation) },
        ]} />
    </Card>
  );
}
