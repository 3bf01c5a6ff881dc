// The User management panel of one customer: profile completion, access, social links, the actions the
// caller's permissions allow (incl. the client/lead owner and the admin access level), and the customer's
// requests (pending → done / failed, who, when, why).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Descriptions, Progress, Space, Table, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useEffect, useRef, useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ACTIONS, meets, type Action } from "../../auth/catalogue";
import { QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { Perm } from "../../auth/perms";
import * as api from "../../services/usercrm";
import { ActionDialog, type ActionKind, type ActionValues } from "./ActionDialog";
import { EditInfoDialog, SocialLinksDialog } from "./EditDialogs";
import { ChangeStateTag, ManageDialog, ownerFollowing, type ManageKind } from "./ManagementDialogs";
import type { MessageKey } from "../../i18n/en";

const when = (v: string | null | undefined) => (v ? dayjs(v).format("YYYY-MM-DD HH:mm") : "—");
export const STATE_COLOR: Record<string, string> = { awaiting_approval: "gold", submitted: "blue", accepted: "blue", completed: "green", failed: "red", declined: "default" };

// the request buttons, in order; each one's permission is its entry `usercrm.<kind>` in the catalogue
const KINDS: readonly ActionKind[] = ["message", "block", "unblock", "reset", "account", "deposit", "withdraw", "allocation"];

/** What a request asked for and what the platform answered (the message's delivery, the new account…): its
 *  summary (no personal data) and result, as `key: value` pairs. */
export function requestDetails(r: Pick<api.UserRequest, "summary" | "result">): string {
  const show = (v: unknown) => (Array.isArray(v) ? v.join(", ") : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v));
  return [...Object.entries(r.summary ?? {}), ...Object.entries(r.result ?? {})].map(([k, v]) => `${k}: ${show(v)}`).join(" · ");
}

/** The action buttons a role's permissions allow (block or unblock by the current access). */
export function allowedActions(can: (p: Perm) => boolean, blocked: boolean): ActionKind[] {
  return KINDS.filter((k) => meets(ACTIONS[`usercrm.${k}` satisfies Action], can) && !(k === "block" && blocked) && !(k === "unblock" && !blocked));
}

export function UserPanel({ customerId }: { customerId: string }) {
  const { t } = useI18n();
  const { can, may } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [kind, setKind] = useState<ActionKind | null>(null);
  const [editing, setEditing] = useState<"info" | "social" | null>(null);
  const [managing, setManaging] = useState<ManageKind | null>(null);
  const reqs = useQuery({ queryKey: ["usercrm", customerId, "requests"], queryFn: ({ signal }) => api.requests(customerId, signal), refetchInterval: 5000 });
  const prof = useQuery({
    queryKey: ["usercrm", customerId, "profile"], queryFn: ({ signal }) => api.profile(customerId, signal),
    refetchInterval: (q) => (ownerFollowing(q.state.data, reqs.data?.items ?? []) ? 3000 : false),
  });
  // a completed request changes the user (access, social links, completion): read the profile again then
  const completed = reqs.data?.items.filter((r) => r.state === "completed").length;
  const seenCompleted = useRef(completed);
  const refetchProfile = prof.refetch;
  useEffect(() => {
    if (completed !== undefined && seenCompleted.current !== undefined && completed !== seenCompleted.current) void refetchProfile();
    seenCompleted.current = completed;
  }, [completed, refetchProfile]);
  const accts = useQuery({ queryKey: ["usercrm", customerId, "accounts", null], queryFn: ({ signal }) => api.accounts(customerId, null, signal), enabled: may("usercrm.reports") });
  const act = useMutation({
    mutationFn: ({ k, v }: { k: ActionKind; v: ActionValues }) => {
      switch (k) {
        case "message": return api.sendMessage(customerId, v.channel!, v.template_id!, v.variables ?? {});
        case "block": return api.block(customerId, v.reason!.trim());
        case "unblock": return api.unblock(customerId, v.reason!.trim());
        case "reset": return api.resetPassword(customerId);
        case "account": return api.addAccount(customerId, v.account_type!, v.currency!);
        case "deposit": return api.moveMoney(customerId, v.account_id!, "deposits", v.amount!, v.currency!);
        case "withdraw": return api.moveMoney(customerId, v.account_id!, "withdrawals", v.amount!, v.currency!);
        default: return api.startAllocation(customerId, { account_id: v.account_id!, fund_id: v.fund_id!, amount: v.amount!, currency: v.currency! });
      }
    },
    onSuccess: (r) => {
      message.success(r.state === "awaiting_approval" ? t("usercrm.needsApproval") : t("usercrm.sent"));
      setKind(null);
      void qc.invalidateQueries({ queryKey: ["usercrm", customerId] });
    },
  });
  return (
    <>
      <QueryState query={prof}>
        {(p) => (
          <Card size="small" title={t("usercrm.panel")} data-testid="user-panel">
            <Descriptions size="small" column={3}>
              <Descriptions.Item label={t("usercrm.completion")}><Progress percent={p.completion_pct} size="small" style={{ width: 160 }} aria-label={t("usercrm.completion")} /></Descriptions.Item>
              <Descriptions.Item label={t("usercrm.access")}>
                {p.access.blocked ? <Tag color="red">{t("usercrm.blocked")}</Tag> : <Tag color="green">{t("usercrm.active")}</Tag>} {p.access.since ? when(p.access.since) : ""}
              </Descriptions.Item>
              <Descriptions.Item label={t("usercrm.social")}>
                {Object.entries(p.social_links).length ? Object.entries(p.social_links).map(([k, v]) => <a key={k} href={v} target="_blank" rel="noreferrer" style={{ marginRight: 8 }}>{k}</a>) : "—"}
              </Descriptions.Item>
              <Descriptions.Item label={t("usercrm.owner")}>
                <span data-testid="user-owner">{p.owner ? p.owner.manager_id : t("usercrm.noOwner")}</span> <ChangeStateTag requests={reqs.data?.items ?? []} kind="owner" />
              </Descriptions.Item>
              <Descriptions.Item label={t("usercrm.accessLevel")} span={2}>
                <span data-testid="user-access-level">{p.access.level ? t(`usercrm.accessLevel.${p.access.level}` as MessageKey) : t("usercrm.accessLevel.unset")}</span>{" "}
                <ChangeStateTag requests={reqs.data?.items ?? []} kind="access" label={(v) => t(`usercrm.accessLevel.${v}` as MessageKey)} />
              </Descriptions.Item>
              {p.missing.length > 0 && <Descriptions.Item label={t("kyc.missing")} span={3}>{p.missing.map((m) => <Tag key={m}>{m}</Tag>)}</Descriptions.Item>}
            </Descriptions>
            <Space wrap>
              {allowedActions(can, p.access.blocked).map((k) => (
                <Button key={k} danger={k === "block"} onClick={() => { act.reset(); setKind(k); }} data-testid={`user-action-${k}`}>{t(`usercrm.action.${k}` as "usercrm.action.message")}</Button>
              ))}
              {may("usercrm.edit") && (<>
                <Button onClick={() => setEditing("info")} data-testid="user-edit-info">{t("usercrm.edit.info")}</Button>
                <Button onClick={() => setEditing("social")} data-testid="user-edit-social">{t("usercrm.edit.social")}</Button>
              </>)}
              {may("usercrm.ownerChange") && <Button onClick={() => setManaging("owner")} data-testid="user-change-owner">{t("usercrm.manage.owner")}</Button>}
              {may("usercrm.accessLevel") && <Button onClick={() => setManaging("access")} data-testid="user-change-access-level">{t("usercrm.manage.accessLevel")}</Button>}
            </Space>
            <SocialLinksDialog customerId={customerId} links={p.social_links} open={editing === "social"} onClose={() => setEditing(null)} />
            <ManageDialog customerId={customerId} kind={managing} current={{ owner: p.owner?.manager_id ?? null, access: p.access.level ?? null }} onClose={() => setManaging(null)} />
          </Card>
        )}
      </QueryState>
      <Card size="small" title={t("usercrm.requests")} style={{ marginTop: 12 }}>
        <QueryState query={reqs} isEmpty={(d) => d.items.length === 0} empty={t("usercrm.noRequests")}>
          {(d) => (
            <Table<api.UserRequest> rowKey="request_id" size="small" pagination={false} dataSource={d.items}
              columns={[
                { title: t("usercrm.action"), dataIndex: "action" },
                { title: t("tasks.col.status"), dataIndex: "state", render: (v: string, r) => <><Tag color={STATE_COLOR[v]}>{t(`usercrm.state.${v}` as "usercrm.state.submitted")}</Tag>{r.failure_reason && <Typography.Text type="danger">{r.failure_reason}</Typography.Text>}</> },
                { title: t("usercrm.amount"), key: "amt", render: (_, r) => (r.amount ? `${r.amount} ${r.currency ?? ""}` : "—") },
                { title: t("usercrm.details"), key: "details", render: (_, r) => requestDetails(r) || "—" },
                { title: t("usercrm.reason"), dataIndex: "reason", render: (v: string | null) => v ?? "—" },
                { title: t("usercrm.requestedBy"), key: "by", render: (_, r) => `${r.requested_by} · ${when(r.requested_at)}` },
                { title: t("usercrm.approvedBy"), dataIndex: "approved_by", render: (v: string | null) => v ?? "—" },
                { title: t("usercrm.doneAt"), dataIndex: "done_at", render: when },
              ]} />
          )}
        </QueryState>
      </Card>
      <EditInfoDialog customerId={customerId} open={editing === "info"} onClose={() => setEditing(null)} />
      <ActionDialog kind={kind} accounts={accts.data?.items ?? []} onClose={() => setKind(null)} onSubmit={(k, v) => act.mutate({ k, v })} pending={act.isPending} error={act.isError ? act.error : null} />
    </>
  );
}
