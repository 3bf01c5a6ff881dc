import { DownloadOutlined, TagsOutlined, UserSwitchOutlined, MessageOutlined } from "@ant-design/icons";
import { Button, Space, Typography } from "antd";
import { memo, useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { useI18n } from "../../i18n";
import { AssignDialog } from "./AssignDialog";
import { BatchRemarkDialog } from "./BatchRemarkDialog";
import { ExportButton } from "./ExportButton";
import type { CustomerFilters } from "./filters";
import { TagsDialog } from "./TagsDialog";

type Open = "assign" | "remark" | "tags" | null;

/** The toolbar over the list: what the role may do with the selected customers (the API checks again). */
export const BulkActions = memo(function BulkActions({ selected, filters, total, onDone, onAssigned }: {
  selected: string[];
  filters: CustomerFilters;
  /** how many customers the filters match (the export's progress), when known */
  total?: number;
  onDone: () => void;
  onAssigned: () => void;
}) {
  const { t } = useI18n();
  const { may } = useAuth();
  const [open, setOpen] = useState<Open>(null);
  const none = selected.length === 0;
  const close = (done: boolean) => {
    setOpen(null);
    if (done) onDone();
  };
  return (
    <Space wrap>
      {selected.length > 0 && <Typography.Text strong data-testid="selected-count">{t("common.selected", { count: selected.length })}</Typography.Text>}
      {may("customers.assign") && (
        <Button type="primary" icon={<UserSwitchOutlined />} disabled={none} onClick={() => setOpen("assign")} data-testid="action-assign">
          {selected.length > 1 ? t("customers.bulkAssign") : t("customers.assign")}
        </Button>
      )}
      {may("customers.edit") && (
        <>
          <Button icon={<MessageOutlined />} disabled={none} onClick={() => setOpen("remark")} data-testid="action-remarks">{t("customers.batchRemarks")}</Button>
          <Button icon={<TagsOutlined />} disabled={none} onClick={() => setOpen("tags")} data-testid="action-tags">{t("customers.tags")}</Button>
        </>
      )}
      {may("customers.export") && <ExportButton filters={filters} total={total} icon={<DownloadOutlined />} />}
      {open === "assign" && <AssignDialog customerIds={selected} onClose={(done) => { if (done) onAssigned(); close(done); }} />}
      {open === "remark" && <BatchRemarkDialog customerIds={selected} onClose={close} />}
      {open === "tags" && <TagsDialog customerIds={selected} onClose={close} />}
    </Space>
  );
});
