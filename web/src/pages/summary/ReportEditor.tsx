// My Daily Report: write or edit my report of a day (today or up to a week back), with optimistic
// concurrency (expected_version) and the report's history (every version, who wrote it and when).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Col, Empty, Form, Input, Row, Tag, Timeline, Typography } from "antd";
import dayjs from "dayjs";
import { useEffect } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert, QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import { myReport, reportHistory, writeReport, type DailyReport, type ReportBody } from "../../services/summary";

export interface ReportValues { summary: string; next_plan?: string; issues?: string }
export const REPORT_MAX = 4000;

/** Form values → the summary service's ReportIn (blank optional fields as null). */
export function toReportBody(v: ReportValues, current: DailyReport | null): ReportBody {
  return {
    summary: v.summary.trim(),
    next_plan: v.next_plan?.trim() || null,
    issues: v.issues?.trim() || null,
    expected_version: current ? current.version : 0,
  };
}

export function ReportForm({ current, onSubmit, pending, readOnly }: {
  current: DailyReport | null; onSubmit: (v: ReportValues) => void; pending?: boolean; readOnly?: boolean;
}) {
  const { t } = useI18n();
  const [form] = Form.useForm<ReportValues>();
  useEffect(() => {
    form.setFieldsValue({ summary: current?.summary ?? "", next_plan: current?.next_plan ?? "", issues: current?.issues ?? "" });
  }, [current, form]);
  return (
    <Form<ReportValues> form={form} layout="vertical" name="daily-report" onFinish={onSubmit} disabled={readOnly}>
      <Form.Item name="summary" label={t("report.summary")}
        rules={[{ required: true, whitespace: true, message: t("report.summaryRequired") }, { max: REPORT_MAX, message: t("report.tooLong", { n: REPORT_MAX }) }]}>
        <Input.TextArea rows={5} showCount maxLength={REPORT_MAX} data-testid="report-summary" />
      </Form.Item>
      <Form.Item name="next_plan" label={t("report.nextPlan")} rules={[{ max: REPORT_MAX, message: t("report.tooLong", { n: REPORT_MAX }) }]}>
        <Input.TextArea rows={3} showCount maxLength={REPORT_MAX} />
      </Form.Item>
      <Form.Item name="issues" label={t("report.issues")} rules={[{ max: REPORT_MAX, message: t("report.tooLong", { n: REPORT_MAX }) }]}>
        <Input.TextArea rows={3} showCount maxLength={REPORT_MAX} />
      </Form.Item>
      {!readOnly && <Button type="primary" htmlType="submit" loading={pending} data-testid="report-save">{current ? t("report.update") : t("report.write")}</Button>}
    </Form>
  );
}

function History({ day, version }: { day: string; version: number }) {
  const { t } = useI18n();
  const q = useQuery({ queryKey: ["summary", "report", day, "history", version], queryFn: ({ signal }) => reportHistory(day, signal) });
  return (
    <QueryState query={q} isEmpty={(d) => d.length === 0}>
      {(versions) => (
        <Timeline items={[...versions].reverse().map((v) => ({
          key: v.version,
          children: (
            <>
              <Typography.Text strong>{t("report.version", { n: v.version })}</Typography.Text>{" "}
              <Tag>{v.action === "written" ? t("report.written") : t("report.edited")}</Tag>
              <Typography.Text type="secondary">{dayjs(v.at).format("YYYY-MM-DD HH:mm")} · {v.by ?? "—"}</Typography.Text>
              <Typography.Paragraph ellipsis={{ rows: 2, expandable: true, symbol: t("report.more") }} style={{ marginBottom: 0, whiteSpace: "pre-wrap" }}>{v.summary}</Typography.Paragraph>
            </>
          ),
        }))} />
      )}
    </QueryState>
  );
}

/** `today`: the brokerage's date (a report is written for it or the 7 days before). */
export function ReportSection({ day, today }: { day: string; today: string }) {
  const { t } = useI18n();
  const { may } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const editable = may("summary.report") && !dayjs(day).isBefore(dayjs(today).subtract(7, "day"), "day") && !dayjs(day).isAfter(dayjs(today), "day");
  const q = useQuery({ queryKey: ["summary", "report", day], queryFn: ({ signal }) => myReport(day, signal) });
  const save = useMutation({
    mutationFn: (v: ReportValues) => writeReport(day, toReportBody(v, q.data ?? null)),
    onSuccess: (r) => {
      message.success(t("common.saved"));
      qc.setQueryData(["summary", "report", day], r);
    },
  });
  return (
    <Row gutter={16}>
      <Col span={15}>
        <Card size="small" title={t("report.mine", { day })}>
          <QueryState query={q}>
            {(r) => (
              <>
                {!editable && !r && <Empty description={t("report.none")} />}
                {(editable || r) && <ReportForm current={r} onSubmit={(v) => save.mutate(v)} pending={save.isPending} readOnly={!editable} />}
                {save.isError && <div style={{ marginTop: 12 }}><ProblemAlert error={save.error} /></div>}
              </>
            )}
          </QueryState>
        </Card>
      </Col>
      <Col span={9}>
        <Card size="small" title={t("report.history")}>
          {q.data ? <History day={day} version={q.data.version} /> : <Empty description={t("report.noHistory")} />}
        </Card>
      </Col>
    </Row>
  );
}
