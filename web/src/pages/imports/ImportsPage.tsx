// Manual import of existing customers and leads (seed 004 §I.1): upload a CSV or XLSX file, follow its
// progress, download the rejected rows (row, field, reason), and the list of past imports.
import { DownloadOutlined, UploadOutlined } from "@ant-design/icons";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Button, Card, Progress, Space, Table, Tag, Typography, Upload } from "antd";
import { useState } from "react";
import { downloadBlob } from "../../components/download";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { getImport, importPercent, isActive, listImports, rejectedRows, uploadImport, type ImportJob } from "../../services/imports";

const STATE_COLOR: Record<string, string> = { queued: "default", running: "processing", done: "success", failed: "error" };

async function download(job: ImportJob) {
  downloadBlob(await rejectedRows(job.job_id), `${job.filename.replace(/\.[^.]+$/, "")}-rejected.csv`);
}

function JobProgress({ job }: { job: ImportJob }) {
  const { t } = useI18n();
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid="import-progress">
      <Progress percent={importPercent(job)} status={job.state === "failed" ? "exception" : job.state === "done" ? "success" : "active"}
        aria-label={t("imports.progress")} />
      <Typography.Text role="status" aria-live="polite" data-testid="import-status">
        {t(`imports.state.${job.state}` as MessageKey)} · {t("imports.counts", { read: job.rows_read, accepted: job.accepted, rejected: job.rejected })}
      </Typography.Text>
      {job.error ? <Typography.Text type="danger">{job.error}</Typography.Text> : null}
    </Space>
  );
}

export default function ImportsPage() {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [current, setCurrent] = useState<string | null>(null);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const upload = useMutation({
    mutationFn: uploadImport,
    onSuccess: (job) => { setCurrent(job.job_id); void qc.invalidateQueries({ queryKey: ["imports"] }); },
  });
  const job = useQuery({
    queryKey: ["import", current],
    queryFn: ({ signal }) => getImport(current as string, signal),
    enabled: current !== null,
    refetchInterval: (q) => (q.state.data && !isActive(q.state.data) ? false : 1000),
  });
  const past = useQuery({
    queryKey: ["imports", cursor, job.data?.state],
    queryFn: ({ signal }) => listImports(cursor, signal),
    placeholderData: keepPreviousData,
  });
  const columns = [
    { title: t("imports.file"), dataIndex: "filename", key: "filename" },
    { title: t("imports.uploaded"), dataIndex: "created_at", key: "created_at", render: (v: string) => new Date(v).toLocaleString() },
    { title: t("imports.by"), dataIndex: "created_by", key: "created_by" },
    { title: t("imports.stateTitle"), dataIndex: "state", key: "state",
      render: (v: string) => <Tag color={STATE_COLOR[v]}>{t(`imports.state.${v}` as MessageKey)}</Tag> },
    { title: t("imports.accepted"), dataIndex: "accepted", key: "accepted" },
    { title: t("imports.rejected"), dataIndex: "rejected", key: "rejected" },
    { title: "", key: "actions", render: (_: unknown, row: ImportJob) => (
      <Space>
        <Button size="small" onClick={() => setCurrent(row.job_id)}>{t("imports.show")}</Button>
        {row.rejected > 0 ? <Button size="small" icon={<DownloadOutlined />} onClick={() => void download(row)}>{t("imports.report")}</Button> : null}
      </Space>) },
  ];
  return (
    <Space direction="vertical" style={{ width: "100%" }} size="large">
      <Typography.Title level={3}>{t("imports.title")}</Typography.Title>
      <Card>
        <Space direction="vertical" style={{ width: "100%" }}>
          <Typography.Text type="secondary">{t("imports.help")}</Typography.Text>
          <Upload accept=".csv,.xlsx" showUploadList={false} data-testid="import-upload"
            beforeUpload={(file) => { upload.mutate(file); return false; }}>
            <Button icon={<UploadOutlined />} loading={upload.isPending} data-testid="import-choose">{t("imports.choose")}</Button>
          </Upload>
          {upload.error ? <ProblemAlert error={upload.error} /> : null}
          {job.data ? (
            <Card size="small" title={job.data.filename} data-testid="import-current"
              extra={job.data.rejected > 0 && !isActive(job.data)
                ? <Button icon={<DownloadOutlined />} onClick={() => void download(job.data as ImportJob)} data-testid="import-report">{t("imports.report")}</Button>
                : null}>
              <JobProgress job={job.data} />
            </Card>
          ) : null}
        </Space>
      </Card>
      <Card title={t("imports.past")}>
        {past.error ? <ProblemAlert error={past.error} /> : null}
        <Table rowKey="job_id" size="small" columns={columns} dataSource={past.data?.items ?? []} loading={past.isLoading}
          pagination={false} data-testid="imports-table" />
        <Space style={{ marginTop: 8 }}>
          <Button disabled={cursors.length < 2} onClick={() => setCursors((c) => c.slice(0, -1))}>{t("common.previous")}</Button>
          <Button disabled={!past.data?.next_cursor} onClick={() => setCursors((c) => [...c, past.data?.next_cursor ?? null])}>{t("common.next")}</Button>
        </Space>
      </Card>
    </Space>
  );
}
