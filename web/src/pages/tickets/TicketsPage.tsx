// Tickets (seed 003 tickets after account opening): search and filters, open a ticket (and assign it),
// then the ticket drawer (?ticket=ID) with edit, assignment, status, delete and the comment timeline.
import { useSearchPatch } from "../../hooks/useSearchPatch";
import { submitValid } from "../../components/submitValid";
import { PlusOutlined } from "@ant-design/icons";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Form, Input, Modal, Select, Space, Table, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { Pager } from "../../components/Pager";
import { ProblemAlert } from "../../components/PageState";
import { useCursorPager } from "../../hooks/useCursorPager";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { listTickets, openTicket, TICKET_STATUSES, type Ticket, type TicketStatus } from "../../services/tasks";
import { useAuth } from "../../auth/AuthProvider";
import { PRIORITY_COLOR, TicketDrawer } from "./TicketDrawer";
import { TicketForm, toTicketIn, type TicketValues } from "./TicketForm";

export default function TicketsPage() {
  const { t } = useI18n();
  const { session } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [params, set] = useSearchPatch();
  const pager = useCursorPager();
  const [creating, setCreating] = useState(false);
  const [form] = Form.useForm<TicketValues>();
  const status = (TICKET_STATUSES as readonly string[]).includes(params.get("status") ?? "") ? (params.get("status") as TicketStatus) : null;
  const mine = params.get("mine") === "1";
  const search = params.get("q");
  const customer = params.get("customer_id");
  const limit = Number(params.get("limit")) || 50;
  const query = { status, assignee_id: mine ? session?.claims.sub : null, customer_id: customer, q: search, cursor: pager.cursor, limit };
  const list = useQuery({ queryKey: ["tickets", query], queryFn: ({ signal }) => listTickets(query, signal), placeholderData: keepPreviousData });
  const create = useMutation({
    mutationFn: (v: TicketValues) => openTicket(toTicketIn(v)),
    onSuccess: (tk) => { message.success(t("tickets.opened")); setCreating(false); void qc.invalidateQueries({ queryKey: ["tickets"] }); set({ ticket: tk.ticket_id }, { keepCursor: true }); },
  });
  return (
    <>
      <Space style={{ width: "100%", justifyContent: "space-between" }} align="baseline">
        <Typography.Title level={1} style={{ fontSize: 24 }}>{t("tickets.title")}</Typography.Title>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => { create.reset(); form.resetFields(); setCreating(true); }} data-testid="ticket-new">{t("tickets.new")}</Button>
      </Space>
      <Space wrap style={{ marginBottom: 12 }} role="search" aria-label={t("tickets.filters")}>
        <Input.Search allowClear placeholder={t("tickets.searchTitle")} aria-label={t("tickets.searchTitle")} defaultValue={search ?? ""} style={{ width: 260 }}
          onSearch={(v) => set({ q: v.trim() || null })} />
        <Input.Search allowClear placeholder={t("tasks.col.customer")} aria-label={t("kyc.customerSearch")} defaultValue={customer ?? ""} style={{ width: 200 }}
          onSearch={(v) => set({ customer_id: v.trim() || null })} />
        <Select allowClear placeholder={t("tickets.anyStatus")} aria-label={t("tasks.col.status")} style={{ width: 170 }} value={status ?? undefined}
          onChange={(v) => set({ status: v ?? null })} options={TICKET_STATUSES.map((s) => ({ value: s, label: t(`tickets.status.${s}` as MessageKey) }))} />
        <Select aria-label={t("tickets.assignee")} style={{ width: 170 }} value={mine ? "me" : "any"} onChange={(v) => set({ mine: v === "me" ? "1" : null })}
          options={[{ value: "any", label: t("tickets.anyAssignee") }, { value: "me", label: t("tickets.assignedToMe") }]} />
      </Space>
      {list.isError ? <ProblemAlert error={list.error} onRetry={() => void list.refetch()} /> : (
        <Table<Ticket> rowKey="ticket_id" size="middle" pagination={false} dataSource={list.data?.items ?? []} loading={list.isPending || (list.isFetching && list.isPlaceholderData)}
          locale={{ emptyText: t("tickets.empty") }} data-testid="tickets-table"
          columns={[
            { title: t("tickets.titleField"), dataIndex: "title", render: (v: string, r) => <Button type="link" style={{ padding: 0, whiteSpace: "normal", textAlign: "left" }} onClick={() => set({ ticket: r.ticket_id }, { keepCursor: true })}>{v}</Button> },
            { title: t("tasks.col.customer"), dataIndex: "customer_id" },
            { title: t("tickets.category"), dataIndex: "category", render: (v: string) => t(`tickets.category.${v}` as MessageKey) },
            { title: t("tickets.priority"), dataIndex: "priority", render: (v: string) => <Tag color={PRIORITY_COLOR[v]}>{t(`tickets.priority.${v}` as MessageKey)}</Tag> },
            { title: t("tasks.col.status"), dataIndex: "status", render: (v: string) => <Tag>{t(`tickets.status.${v}` as MessageKey)}</Tag> },
            { title: t("tickets.assignee"), dataIndex: "assignee_id", render: (v: string | null) => v ?? "—" },
            { title: t("tasks.col.created"), dataIndex: "created_at", render: (v: string) => dayjs(v).format("YYYY-MM-DD HH:mm") },
          ]} />
      )}
      <Pager pager={pager} nextCursor={list.data?.next_cursor ?? null} limit={limit} onLimit={(n) => set({ limit: String(n) })} />
      <Modal open={creating} forceRender onCancel={() => setCreating(false)} title={t("tickets.new")} okText={t("common.submit")} confirmLoading={create.isPending}
        onOk={() => submitValid(form, (v) => create.mutate(v))}>
        <TicketForm form={form} editing={false} />
        {create.isError && <ProblemAlert error={create.error} />}
      </Modal>
      <TicketDrawer ticketId={params.get("ticket")} onClose={() => set({ ticket: null }, { keepCursor: true })} />
    </>
  );
}
