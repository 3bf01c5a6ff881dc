import { LeftOutlined, RightOutlined, VerticalRightOutlined } from "@ant-design/icons";
import { Button, Select, Space, Typography } from "antd";
import type { CursorPager } from "../hooks/useCursorPager";
import { useI18n } from "../i18n";

/** First / Previous / Next over keyset pages (no page count: a keyset list does not count its pages). */
export function Pager({ pager, nextCursor, limit, onLimit, sizes = [20, 50, 100, 200] }: {
  pager: CursorPager;
  nextCursor: string | null;
  limit: number;
  onLimit: (n: number) => void;
  sizes?: number[];
}) {
  const { t } = useI18n();
  return (
    <nav aria-label={t("common.pagination")} style={{ display: "flex", justifyContent: "flex-end", marginTop: 12 }}>
      <Space>
        <Typography.Text data-testid="page-number">{t("customers.page", { n: pager.page })}</Typography.Text>
        <Button icon={<VerticalRightOutlined />} disabled={!pager.hasPrevious} onClick={pager.first} aria-label={t("common.first")} />
        <Button icon={<LeftOutlined />} disabled={!pager.hasPrevious} onClick={pager.previous} aria-label={t("common.previous")} data-testid="page-previous" />
        <Button disabled={!nextCursor} onClick={() => nextCursor && pager.next(nextCursor)} data-testid="page-next">
          {t("common.next")} <RightOutlined />
        </Button>
        <Select aria-label={t("customers.pageSize")} value={limit} onChange={onLimit} options={sizes.map((n) => ({ value: n, label: t("common.perPage", { n }) }))} style={{ width: 120 }} />
      </Space>
    </nav>
  );
}
