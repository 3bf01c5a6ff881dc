// The match review queue (issue 19, existing-customer matching): suspected duplicates — same name and date of
// birth, no exact key — side by side, with personal data masked as the API answers it (CustomerPiiRead);
// merge or reject with a comment, and unmerge a merged pair, only with CustomerMerge.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Descriptions, Empty, Input, Modal, Segmented, Space, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import {
  MATCH_STATUSES, listMatches, mergeMatch, rejectMatch, unmergeCustomer,
  type MatchItem, type MatchSide, type MatchStatus,
} from "../../services/matches";

type Action = "merge" | "reject" | "unmerge";

function when(v: string | null | undefined): string {
  return v ? dayjs(v).format("YYYY-MM-DD HH:mm") : "—";
}

function SideBySide({ item }: { item: MatchItem }) {
  const { t, label } = useI18n();
  const phone = (s?: MatchSide | null) => (s?.phone_number ? `${s.phone_dialing_code ?? ""} ${s.phone_number}` : "—");
  const rows: [string, (s?: MatchSide | null) => string][] = [
    [t("matches.name"), (s) => s?.name ?? "—"],
    [t("matches.dob"), (s) => s?.date_of_birth ?? "—"],
    [t("matches.phone"), phone],
    [t("matches.email"), (s) => s?.email ?? "—"],
    [t("matches.registered"), (s) => when(s?.registered_at)],
    [t("matches.channel"), (s) => label("channel", s?.channel)],
    [t("matches.stage"), (s) => label("stage", s?.stage)],
    [t("matches.verification"), (s) => label("verification", s?.verification_status)],
  ];
  return (
    <table className="match-compare" style={{ width: "100%", borderCollapse: "collapse" }} data-testid="match-compare">
      <thead>
        <tr>
          <th style={{ textAlign: "left", width: "20%" }}>{t("matches.field")}</th>
          <th style={{ textAlign: "left" }}>{t("matches.newer")}: {item.customer_id}</th>
          <th style={{ textAlign: "left" }}>{t("matches.existing")}: {item.candidate_id}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([name, get]) => {
          const a = get(item.customer), b = get(item.candidate);
          return (
            <tr key={name}>
              <th scope="row" style={{ textAlign: "left", fontWeight: 500 }}>{name}</th>
              <td>{a}</td>
              <td>{b}{a === b && a !== "—" ? <Tag color="blue" style={{ marginLeft: 8 }}>=</Tag> : null}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export default function MatchReviewPage() {
  const { t, label } = useI18n();
  const { may } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [status, setStatus] = useState<MatchStatus>("pending");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [pending, setPending] = useState<{ action: Action; item: MatchItem } | null>(null);
  const [comment, setComment] = useState("");
  const cursor = cursors[cursors.length - 1];
  const q = useQuery({ queryKey: ["matches", status, cursor], queryFn: ({ signal }) => listMatches(status, cursor, signal) });
  const mayMerge = may("customers.merge");
  const act = useMutation({
    mutationFn: async ({ action, item }: { action: Action; item: MatchItem }) => {
      const text = comment.trim() || null;
      if (action === "merge") return mergeMatch(item, text);
      if (action === "reject") return rejectMatch(item, text);
      return unmergeCustomer(item.customer_id, text);
    },
    onSuccess: (_, { action, item }) => {
      message.success(action === "merge" ? t("matches.merged", { id: item.candidate_id })
        : action === "reject" ? t("matches.rejected") : t("matches.unmerged"));
      setPending(null);
      setComment("");
      void qc.invalidateQueries({ queryKey: ["matches"] });
      void qc.invalidateQueries({ queryKey: ["customers"] });
    },
  });
  const titleOf = (p: { action: Action; item: MatchItem }) =>
    t(p.action === "merge" ? "matches.mergeTitle" : p.action === "reject" ? "matches.rejectTitle" : "matches.unmergeTitle",
      { customer: p.item.customer_id, candidate: p.item.candidate_id });
  const items = q.data?.items ?? [];
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("matches.title")}</Typography.Title>
      <Space style={{ marginBottom: 12 }} wrap>
        <Segmented<MatchStatus> aria-label={t("matches.status")} value={status}
          options={MATCH_STATUSES.map((s) => ({ value: s, label: t(`matches.status.${s}`) }))}
          onChange={(v) => { setStatus(v); setCursors([null]); }} />
        {!mayMerge && <Typography.Text type="secondary">{t("matches.noPermission")}</Typography.Text>}
      </Space>
      {q.isError && <ProblemAlert error={q.error} onRetry={() => void q.refetch()} />}
      {!q.isError && !q.isPending && items.length === 0 && <Empty description={t("matches.empty")} />}
      <Space direction="vertical" style={{ width: "100%" }} data-testid="match-list">
        {items.map((item) => (
          <Card key={`${item.customer_id}/${item.candidate_id}`} size="small" data-testid="match-card"
            data-customer={item.customer_id} data-candidate={item.candidate_id}
            title={<Space wrap>
              <span>{item.customer_id} → {item.candidate_id}</span>
              <Tag>{label("matches.reason", item.reason)}</Tag>
              <Typography.Text type="secondary">{t("matches.suggested")}: {when(item.suggested_at)}</Typography.Text>
            </Space>}
            extra={mayMerge && (
              item.status === "pending" ? (
                <Space>
                  <Button type="primary" data-testid="match-merge" onClick={() => setPending({ action: "merge", item })}>{t("matches.merge")}</Button>
                  <Button data-testid="match-reject" onClick={() => setPending({ action: "reject", item })}>{t("matches.reject")}</Button>
                </Space>
              ) : item.status === "merged" ? (
                <Button danger data-testid="match-unmerge" onClick={() => setPending({ action: "unmerge", item })}>{t("matches.unmerge")}</Button>
              ) : null
            )}>
            <SideBySide item={item} />
            {item.status !== "pending" && (
              <Descriptions size="small" column={2} style={{ marginTop: 8 }}>
                <Descriptions.Item label={t("matches.status")}>{t(`matches.status.${item.status}`)}</Descriptions.Item>
                <Descriptions.Item label={t("matches.comment")}>
                  {item.comment ?? "—"}{item.decided_by ? ` (${t("matches.decidedBy", { by: item.decided_by })})` : ""}
                </Descriptions.Item>
              </Descriptions>
            )}
          </Card>
        ))}
      </Space>
      <Space style={{ marginTop: 12, width: "100%", justifyContent: "flex-end" }}>
        <Button disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>{t("common.previous")}</Button>
        <Button disabled={!q.data?.next_cursor} onClick={() => q.data?.next_cursor && setCursors([...cursors, q.data.next_cursor])}>{t("common.next")}</Button>
      </Space>
      <Modal open={pending !== null} title={pending ? titleOf(pending) : ""} okText={pending ? t(`matches.${pending.action}`) : ""}
        cancelText={t("common.cancel")} confirmLoading={act.isPending} okButtonProps={{ "data-testid": "match-confirm" } as never}
        onCancel={() => { setPending(null); act.reset(); }} onOk={() => pending && act.mutate(pending)} destroyOnHidden>
        {pending?.action === "merge" && <Typography.Paragraph>{t("matches.mergeHint")}</Typography.Paragraph>}
        {act.isError && <ProblemAlert error={act.error} />}
        <Input.TextArea data-testid="match-comment" aria-label={t("matches.comment")} placeholder={t("matches.comment")} maxLength={1000} rows={3}
          value={comment} onChange={(e) => setComment(e.target.value)} />
      </Modal>
    </>
  );
}
