import { useQuery } from "@tanstack/react-query";
import { Card, Collapse, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import { changelog } from "../../services/summary";

export function ChangelogCard() {
  const { t } = useI18n();
  const q = useQuery({ queryKey: ["summary", "changelog"], queryFn: changelog });
  return (
    <Card title={<Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>{t("home.changelog")}</Typography.Title>}>
      <QueryState query={q} isEmpty={(d) => d.items.filter((e) => !e.withdrawn).length === 0} empty={t("home.changelogEmpty")}>
        {(d) => (
          <Collapse
            size="small"
            items={d.items.filter((e) => !e.withdrawn).map((e) => ({
              key: e.entry_id,
              label: (
                <span>
                  {e.version_label && <Tag color="blue">{e.version_label}</Tag>}
                  {e.title} <Typography.Text type="secondary">· {dayjs(e.posted_at).format("YYYY-MM-DD")}</Typography.Text>
                </span>
              ),
              children: <Typography.Paragraph style={{ whiteSpace: "pre-wrap", margin: 0 }}>{e.body}</Typography.Paragraph>,
            }))}
          />
        )}
      </QueryState>
    </Card>
  );
}
