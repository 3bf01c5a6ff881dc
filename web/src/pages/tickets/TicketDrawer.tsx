// A ticket: details, edit, assign, status changes (the allowed transitions), delete, and the timeline of
// changes and comments (add; delete your own).
import { submitValid } from "../../components/submitValid";
import { DeleteOutlined, EditOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Descriptions, Drawer, Form, Input, Modal, Popconfirm, Select, Space, Tag, Timeline, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert, QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import {
  addComment, assignTicket, deleteTicket, deleteTicketComment, editTicket, getTicket, setTicketStatus, ticketTimeline,
  TICKET_TRANSITIONS, type Ticket, type TicketStatus,
} from "../../services/tasks";
import { TicketForm, toTicketEdit, USER_ID, type TicketValues } from "./TicketForm";

const when = (v: string | null | undefined) => (v ? dayjs(v).format("YYYY-MM-DD HH:mm") : "—");
export const PRIORITY_COLOR: Record<string, string | undefined> = { low: undefined, normal: "blue", high: "orange", urgent: "red" };

function Body({ tk, onDeleted }: { tk: Ticket; onDeleted: () => void }) {
  const { t } = useI18n();
  const { session } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const me = session?.claims.sub;
  const [editing, setEditing] = useState(false);
  const [assignee, setAssignee] = useState<string | null>(null);
  const [comment, setComment] = useState("");
  const [form] = Form.useForm<TicketValues>();
  const timeline = useQuery({ queryKey: ["ticket", tk.ticket_id, "timeline", tk.version], queryFn: ({ signal }) => ticketTimeline(tk.ticket_id, signal) });
  const changed = (next?: Ticket) => {
    if (next) qc.setQueryData(["ticket", tk.ticket_id], next);
    void qc.invalidateQueries({ queryKey: ["ticket", tk.ticket_id] });
    void qc.invalidateQueries({ queryKey: ["tickets"] });
  };
  const run = useMutation({
    mutationFn: (f: () => Promise<Ticket | void>) => f(),
    onSuccess: (next) => { message.success(t("common.saved")); setEditing(false); setAssignee(null); changed(next || undefined); },
  });
  const remove = useMutation({ mutationFn: () => deleteTicket(tk.ticket_id), onSuccess: () => { message.success(t("tickets.deleted")); changed(); onDeleted(); } });
  const post = useMutation({
    mutationFn: () => addComment(tk.ticket_id, comment.trim()),
    onSuccess: () => { setComment(""); void qc.invalidateQueries({ queryKey: ["ticket", tk.ticket_id] }); },
  });
  const next = TICKET_TRANSITIONS[tk.status as TicketStatus] ?? [];
  return (
    <>
      <Space wrap style={{ marginBottom: 12 }}>
        <Button icon={<EditOutlined />} disabled={tk.status === "closed"} onClick={() => { form.setFieldsValue({ customer_id: tk.customer_id, title: tk.title, description: tk.description ?? undefined, category: tk.category, priority: tk.priority }); setEditing(true); }}>{t("tickets.edit")}</Button>
        <Button disabled={tk.status === "closed"} onClick={() => setAssignee(tk.assignee_id ?? "")}>{t("tickets.assign")}</Button>
        <Select<TicketStatus> aria-label={t("tickets.changeStatus")} placeholder={t("tickets.changeStatus")} style={{ width: 200 }} disabled={!next.length} value={null as unknown as TicketStatus}
          options={next.map((s) => ({ value: s, label: t(`tickets.status.${s}` as MessageKey) }))}
          onChange={(s) => run.mutate(() => setTicketStatus(tk.ticket_id, s))} data-testid="ticket-status-change" />
        <Popconfirm title={t("tickets.deleteConfirm")} okText={t("tickets.delete")} cancelText={t("common.cancel")} onConfirm={() => remove.mutate()}>
          <Button danger icon={<DeleteOutlined />}>{t("tickets.delete")}</Button>
        </Popconfirm>
      </Space>
      {(run.isError || remove.isError) && <div style={{ marginBottom: 12 }}><ProblemAlert error={run.error ?? remove.error} /></div>}
      <Descriptions size="small" bordered column={2}>
        <Descriptions.Item label={t("tickets.titleField")} span={2}>{tk.title}</Descriptions.Item>
        <Descriptions.Item label={t("tasks.col.customer")}>{tk.customer_id}</Descriptions.Item>
        <Descriptions.Item label={t("tasks.col.status")}><Tag data-testid="ticket-status">{t(`tickets.status.${tk.status}` as MessageKey)}</Tag></Descriptions.Item>
        <Descriptions.Item label={t("tickets.category")}>{t(`tickets.category.${tk.category}` as MessageKey)}</Descriptions.Item>
        <Descriptions.Item label={t("tickets.priority")}><Tag color={PRIORITY_COLOR[tk.priority]}>{t(`tickets.priority.${tk.priority}` as MessageKey)}</Tag></Descriptions.Item>
        <Descriptions.Item label={t("tickets.assignee")}>{tk.assignee_id ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("tickets.createdBy")}>{tk.created_by} · {when(tk.created_at)}</Descriptions.Item>
        <Descriptions.Item label={t("tickets.description")} span={2}><Typography.Paragraph style={{ whiteSpace: "pre-wrap", margin: 0 }}>{tk.description ?? "—"}</Typography.Paragraph></Descriptions.Item>
      </Descriptions>
      <Card size="small" title={t("tickets.timeline")} style={{ marginTop: 12 }}>
        <Space.Compact style={{ width: "100%", marginBottom: 16 }}>
          <Input.TextArea aria-label={t("tickets.addComment")} placeholder={t("tickets.addComment")} rows={2} maxLength={4000} value={comment} onChange={(e) => setComment(e.target.value)} data-testid="ticket-comment" />
          <Button type="primary" disabled={!comment.trim()} loading={post.isPending} onClick={() => post.mutate()}>{t("tickets.comment")}</Button>
        </Space.Compact>
        {post.isError && <ProblemAlert error={post.error} />}
        <QueryState query={timeline} isEmpty={(x) => x.length === 0}>
          {(items) => (
            <Timeline items={[...items].reverse().map((e) => ({
              key: e.version,
              color: e.kind === "comment" ? "blue" : "gray",
              children: (
                <>
                  <Typography.Text strong>{t(`tickets.event.${e.kind}` as MessageKey)}</Typography.Text>{" "}
                  <Typography.Text type="secondary">{when(e.at)} · {e.actor_id ?? "—"}</Typography.Text>
                  {e.kind === "comment" && (e.deleted ? <div><Typography.Text type="secondary" italic>{t("tickets.commentDeleted")}</Typography.Text></div> : (
                    <div style={{ whiteSpace: "pre-wrap" }}>{e.body}
                      {e.actor_id === me && e.comment_id && (
                        <Button type="link" size="small" danger onClick={() => run.mutate(() => deleteTicketComment(tk.ticket_id, e.comment_id!))}>{t("tickets.delete")}</Button>)}
                    </div>))}
                  {e.kind !== "comment" && e.detail && <div style={{ fontSize: 12, color: "#595959" }}>{Object.entries(e.detail).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join(" · ")}</div>}
                </>
              ),
            }))} />
          )}
        </QueryState>
      </Card>
      <Modal open={editing} forceRender onCancel={() => setEditing(false)} title={t("tickets.edit")} okText={t("common.save")} confirmLoading={run.isPending}
        onOk={() => submitValid(form, (v) => { const body = toTicketEdit(v, tk); if (body) run.mutate(() => editTicket(tk.ticket_id, body)); else setEditing(false); })}>
        <TicketForm form={form} editing />
      </Modal>
      <Modal open={assignee !== null} onCancel={() => setAssignee(null)} title={t("tickets.assign")} okText={t("tickets.assign")} confirmLoading={run.isPending}
        okButtonProps={{ disabled: !USER_ID.test((assignee ?? "").trim()) }} onOk={() => run.mutate(() => assignTicket(tk.ticket_id, (assignee ?? "").trim()))}>
        <label htmlFor="ticket-assignee">{t("tickets.assignee")}</label>
        <Input id="ticket-assignee" value={assignee ?? ""} maxLength={64} onChange={(e) => setAssignee(e.target.value)} />
      </Modal>
    </>
  );
}

export function TicketDrawer({ ticketId, onClose }: { ticketId: string | null; onClose: () => void }) {
  const { t } = useI18n();
  const q = useQuery({ queryKey: ["ticket", ticketId], queryFn: ({ signal }) => getTicket(ticketId!, signal), enabled: !!ticketId });
  return (
    <Drawer open={!!ticketId} onClose={onClose} width={820} destroyOnHidden title={q.data ? q.data.title : t("tickets.ticket")} closable={{ "aria-label": t("common.close") }}>
      {ticketId && <QueryState query={q}>{(tk) => <Body tk={tk} onDeleted={onClose} />}</QueryState>}
    </Drawer>
  );
}
