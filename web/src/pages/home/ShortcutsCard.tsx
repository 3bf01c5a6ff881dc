import { useQuery } from "@tanstack/react-query";
import { Badge, Card, List, Typography } from "antd";
import { Link } from "react-router";
import { screenExists } from "../../app/paths";
import { QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import type { Shortcuts } from "../../services/models";
import { shortcuts } from "../../services/summary";

type CountKey = Exclude<keyof Shortcuts, "date" | "my_report_written_today">;
// `{date}`: the day the counts were made for (the brokerage's today, from the answer)
const ITEMS: { key: CountKey; to: string }[] = [
  { key: "follow_ups_overdue", to: "/summary?tab=followups&overdue=true" },
  { key: "follow_ups_due_today", to: "/summary?tab=followups" },
  { key: "open_tasks", to: "/tasks" },
  { key: "kyc_cases_open", to: "/kyc" },
  { key: "registered_today", to: "/customers?registered_from={date}" },
  { key: "opened_today", to: "/customers?stage=pending_funding" },
  { key: "funded_today", to: "/customers?stage=funded" },
];

export function ShortcutsCard() {
  const { t } = useI18n();
  const q = useQuery({ queryKey: ["summary", "shortcuts"], queryFn: shortcuts });
  return (
    <Card title={<Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>{t("home.shortcuts")}</Typography.Title>}>
      <QueryState query={q}>
        {(d) => (
          <List
            size="small"
            dataSource={[...ITEMS.map((i) => ({ ...i, to: i.to.replace("{date}", d.date), value: d[i.key] as number | string })),
              { key: "report" as const, to: "/summary?tab=report", value: d.my_report_written_today ? t("home.reportWritten") : t("home.reportMissing") }]}
            renderItem={(i) => {
              const text = t(`home.shortcut.${i.key}` as MessageKey);
              const path = i.to.split("?")[0];
              return (
                <List.Item extra={typeof i.value === "number" ? <Badge count={i.value} showZero overflowCount={99999} color={i.value ? "#1456c8" : "#8c8c8c"} /> : <Typography.Text>{i.value}</Typography.Text>}
                  data-testid={`shortcut-${i.key}`}>
                  {screenExists(path) ? <Link to={i.to}>{text}</Link> : <span>{text}</span>}
                </List.Item>
              );
            }}
          />
        )}
      </QueryState>
    </Card>
  );
}
