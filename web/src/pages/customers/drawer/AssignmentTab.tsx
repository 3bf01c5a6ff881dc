// Assignment: who holds the customer and why (reason, rule and its version, the routing inputs), and the
// history of assignments, hand-overs and follow-up resets.
import { useQuery } from "@tanstack/react-query";
import { Card, Descriptions, Empty, Space, Table, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { QueryState } from "../../../components/PageState";
import { useI18n } from "../../../i18n";
import { assignmentHistory, customerAssignments } from "../../../services/assignment";

const when = (v: string | null | undefined) => (v ? dayjs(v).format("YYYY-MM-DD HH:mm") : "—");
const json = (v: unknown) => (v && typeof v === "object" && Object.keys(v).length ? Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}=${typeof x === "object" ? JSON.stringify(x) : String(x)}`).join(", ") : "—");

export function AssignmentTab({ customerId }: { customerId: string }) {
  const { t, label } = useI18n();
  const current = useQuery({ queryKey: ["customer", customerId, "assignments"], queryFn: () => customerAssignments(customerId) });
  const history = useQuery({ queryKey: ["customer", customerId, "assignment-history"], queryFn: () => assignmentHistory(customerId), retry: false });
  return (
    <>
      <Typography.Title level={3} style={{ fontSize: 14 }}>{t("assignment.current")}</Typography.Title>
      <QueryState query={current} isEmpty={(d) => d.slots.length === 0} empty={t("assignment.none")}>
        {(d) => (
          <Space direction="vertical" style={{ width: "100%" }}>
            {d.slots.map((s) => (
              <Card key={`${s.stage}-${s.manager_id}`} size="small" data-testid="assignment-slot">
                <Descriptions size="small" column={2}>
                  <Descriptions.Item label={t("field.manager")}>{s.manager_id}</Descriptions.Item>
                  <Descriptions.Item label={t("field.team")}>{s.team_id ?? "—"}</Descriptions.Item>
                  <Descriptions.Item label={t("field.stage")}>{s.stage ? label("stage", s.stage) : t("assign.stageAll")}</Descriptions.Item>
                  <Descriptions.Item label={t("field.share")}>{s.share ?? "—"}</Descriptions.Item>
                  <Descriptions.Item label={t("field.why")}><Tag>{s.reason ?? "—"}</Tag>{s.assigned_by ? ` ${t("field.by")} ${s.assigned_by}` : ""}</Descriptions.Item>
                  <Descriptions.Item label={t("field.protectedUntil")}>{when(s.protection_expires_at)}</Descriptions.Item>
                  <Descriptions.Item label={t("field.rule")}>{s.rule_id ? `${s.rule_id} · ${t("field.ruleVersion")} ${s.rule_version ?? "—"}` : "—"}</Descriptions.Item>
                  <Descriptions.Item label={t("field.inputs")}>{json(s.inputs)}</Descriptions.Item>
                </Descriptions>
                {s.rule && (
                  <Typography.Paragraph type="secondary" style={{ marginBottom: 0, fontSize: 12 }}>
                    {t("field.rule")}: <code>{JSON.stringify(s.rule.definition)}</code>
                  </Typography.Paragraph>
                )}
              </Card>
            ))}
          </Space>
        )}
      </QueryState>
      <Typography.Title level={3} style={{ fontSize: 14, marginTop: 16 }}>{t("assignment.history")}</Typography.Title>
      {history.isError ? <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("state.empty")} /> : (
        <Table size="small" rowKey="version" pagination={false} loading={history.isPending} dataSource={history.data ?? []} locale={{ emptyText: t("state.empty") }}
          columns={[
            { title: t("field.at"), dataIndex: "at", render: when, width: 140 },
            { title: t("field.event"), dataIndex: "action", render: (v: string) => <Tag>{label("action", v)}</Tag> },
            { title: t("field.manager"), key: "m", render: (_, r) => r.previous_manager_id && r.previous_manager_id !== r.manager_id ? `${r.previous_manager_id} → ${r.manager_id ?? "—"}` : r.manager_id ?? "—" },
            { title: t("field.stage"), dataIndex: "stage", render: (v: string | null) => (v ? label("stage", v) : t("assign.stageAll")) },
            { title: t("field.why"), key: "why", render: (_, r) => [r.reason, r.rule_id && `${r.rule_id} v${r.rule_version ?? "?"}`, r.inputs && json(r.inputs)].filter(Boolean).join(" · ") || "—" },
            { title: t("field.by"), dataIndex: "actor" },
          ]} />
      )}
    </>
  );
}
