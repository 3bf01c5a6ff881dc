// Comments across all tickets (seed 003 "Comments"): search, view (opens the ticket), delete — your own,
// or anyone's with CommentModerate.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Input, Popconfirm, Space, Table, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import { deleteComment, searchComments, type CommentQuery, type CommentRow } from "../../services/tasks";
import { TicketDrawer } from "./TicketDrawer";

export default function CommentsPage() {
  const { t } = useI18n();
  const { may, session } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [filter, setFilter] = useState<CommentQuery>({});
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [ticket, setTicket] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1];
  const q = useQuery({ queryKey: ["comments", filter, cursor], queryFn: ({ signal }) => searchComments({ ...filter, cursor, limit: 50 }, signal) });
  const remove = useMutation({
    mutationFn: (id: string) => deleteComment(id),
    onSuccess: () => { message.success(t("tickets.deleted")); void qc.invalidateQueries({ queryKey: ["comments"] }); },
  });
  const change = (patch: CommentQuery) => { setCursors([null]); setFilter({ ...filter, ...patch }); };
  const mayDelete = (c: CommentRow) => may("comments.moderate") || c.author_id === session?.claims.sub;
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("comments.title")}</Typography.Title>
      <Space wrap style={{ marginBottom: 12 }} role="search" aria-label={t("comments.filters")}>
        <Input.Search allowClear placeholder={t("comments.search")} aria-label={t("comments.search")} style={{ width: 280 }} onSearch={(v) => change({ q: v.trim() || null })} />
        <Input.Search allowClear placeholder={t("tasks.col.customer")} aria-label={t("kyc.customerSearch")} style={{ width: 200 }} onSearch={(v) => change({ customer_id: v.trim() || null })} />
        <Input.Search allowClear placeholder={t("comments.author")} aria-label={t("comments.author")} style={{ width: 200 }} onSearch={(v) => change({ author_id: v.trim() || null })} />
      </Space>
      {remove.isError && <ProblemAlert error={remove.error} />}
      {q.isError ? <ProblemAlert error={q.error} onRetry={() => void q.refetch()} /> : (
        <Table<CommentRow> rowKey="comment_id" size="middle" pagination={false} loading={q.isPending} dataSource={q.data?.items ?? []}
          locale={{ emptyText: t("comments.empty") }} data-testid="comments-table"
          columns={[
            { title: t("comments.comment"), dataIndex: "body", render: (v: string | null) => <Typography.Paragraph ellipsis={{ rows: 2, expandable: true, symbol: t("report.more") }} style={{ margin: 0, whiteSpace: "pre-wrap" }}>{v ?? "—"}</Typography.Paragraph> },
            { title: t("tickets.ticket"), dataIndex: "ticket_title", render: (v: string, r) => <Button type="link" style={{ padding: 0, whiteSpace: "normal", textAlign: "left" }} onClick={() => setTicket(r.ticket_id)}>{v}</Button> },
            { title: t("tasks.col.customer"), dataIndex: "customer_id" },
            { title: t("comments.author"), dataIndex: "author_id", render: (v: string | null) => v ?? "—" },
            { title: t("comments.at"), dataIndex: "at", render: (v: string) => dayjs(v).format("YYYY-MM-DD HH:mm") },
            { title: t("common.actions"), key: "act", render: (_, r) => mayDelete(r) && (
              <Popconfirm title={t("comments.deleteConfirm")} okText={t("tickets.delete")} cancelText={t("common.cancel")} onConfirm={() => remove.mutate(r.comment_id)}>
                <Button size="small" danger>{t("tickets.delete")}</Button>
              </Popconfirm>) },
          ]} />
      )}
      <Space style={{ marginTop: 12, width: "100%", justifyContent: "flex-end" }}>
        <Button disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>{t("common.previous")}</Button>
        <Button disabled={!q.data?.next_cursor} onClick={() => q.data?.next_cursor && setCursors([...cursors, q.data.next_cursor])}>{t("common.next")}</Button>
      </Space>
      <TicketDrawer ticketId={ticket} onClose={() => setTicket(null)} />
    </>
  );
}
