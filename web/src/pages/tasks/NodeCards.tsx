// Node cards (seed 000 "Tasks"): one card per task node with its open and overdue counts; a card selects
// its list (keyboard: Tab to a card, Enter or Space).
import { Badge, Card, Col, Row, Statistic, Typography } from "antd";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import type { NodeCount, TaskNode } from "../../services/tasks";

export function NodeCards({ counts, selected, onSelect, loading }: {
  counts: NodeCount[] | undefined;
  selected: TaskNode | null;
  onSelect: (node: TaskNode | null) => void;
  loading?: boolean;
}) {
  const { t } = useI18n();
  return (
    <Row gutter={[12, 12]} role="list" aria-label={t("tasks.nodes")} style={{ marginBottom: 16 }}>
      {(counts ?? []).map((c) => {
        const node = c.node as TaskNode;
        const active = selected === node;
        const toggle = () => onSelect(active ? null : node);
        return (
          <Col key={node} xs={12} md={8} xl={6} xxl={4} role="listitem">
            <Card size="small" hoverable tabIndex={0} role="button" aria-pressed={active} data-testid={`node-card-${node}`}
              onClick={toggle}
              onKeyDown={(e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); } }}
              style={{ height: "100%", ...(active ? { borderColor: "#1456c8", boxShadow: "0 0 0 1px #1456c8" } : {}) }}>
              <Statistic title={t(`node.${node}` as MessageKey)} value={c.open} loading={loading} />
              <Typography.Text type={c.overdue > 0 ? "danger" : "secondary"} data-testid={`node-overdue-${node}`}>
                {c.overdue > 0 && <Badge status="error" />} {t("tasks.overdueCount", { n: c.overdue })}
              </Typography.Text>
            </Card>
          </Col>
        );
      })}
    </Row>
  );
}
