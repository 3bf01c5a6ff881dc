import { Button, Modal, Progress, Space, Typography } from "antd";
import { useRef, useState, type ReactNode } from "react";
import { downloadBlob } from "../../components/download";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import { exportCustomers } from "../../services/customers";
import { toFilterQuery, type CustomerFilters } from "./filters";

/** The export's progress: rows written of the rows the filters matched when it started (never 100 before the
 * file is complete: customers may arrive meanwhile); without a total, an indeterminate bar. */
export function exportPercent(rows: number, total: number | undefined): number {
  return total ? Math.min(99, Math.floor((rows / total) * 100)) : 99;
}

/** Streams the filtered list as CSV with a running row count (a percentage of `total` when known), then
 * offers the file. */
export function ExportButton({ filters, total, icon }: { filters: CustomerFilters; total?: number; icon: ReactNode }) {
  const { t } = useI18n();
  const [rows, setRows] = useState<number | null>(null);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);

  const start = async () => {
    abort.current = new AbortController();
    setRows(0);
    setDone(false);
    setError(null);
    try {
      const blob = await exportCustomers({ ...toFilterQuery(filters), sort: filters.sort, order: filters.order }, setRows, abort.current.signal);
      downloadBlob(blob, `customers-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, "")}.csv`);
      setDone(true);
    } catch (e) {
      if (!(e instanceof DOMException && e.name === "AbortError")) setError(e);
      else setRows(null);
    }
  };
  const close = () => {
    abort.current?.abort();
    setRows(null);
    setError(null);
  };
  return (
    <>
      <Button icon={icon} onClick={() => void start()} data-testid="action-export">{t("customers.export")}</Button>
      <Modal open={rows !== null || error !== null} title={t("customers.export")} onCancel={close} destroyOnHidden
        footer={<Button onClick={close}>{done || error ? t("common.close") : t("customers.exportCancel")}</Button>}>
        <Space direction="vertical" style={{ width: "100%" }}>
          {error ? <ProblemAlert error={error} /> : (
            <>
              <Progress percent={done ? 100 : exportPercent(rows ?? 0, total)} status={done ? "success" : "active"} showInfo={!!total} aria-label={t("customers.export")} />
              <Typography.Text role="status" aria-live="polite" data-testid="export-status">
                {done ? t("customers.exportDone", { rows: rows ?? 0 }) : t("customers.exporting", { rows: rows ?? 0 })}
              </Typography.Text>
            </>
          )}
        </Space>
      </Modal>
    </>
  );
}
