// The customer's contact history (issue 16): every message request to this customer from the usercrm API
// (channel, template, who, when) with its delivery result, newest first, as a timeline, a page at a time.
// Shown only with the permission the API requires to read requests (`customers.tab.messages` in the catalogue,
// auth/catalogue.ts); the API stays the authority (a 403 shows as a plain problem alert).
import { useInfiniteQuery } from "@tanstack/react-query";
import { Button, Tag, Timeline, Typography } from "antd";
import dayjs from "dayjs";
import { QueryState } from "../../../components/PageState";
import { useI18n } from "../../../i18n";
import type { MessageKey } from "../../../i18n/en";
import { messages, type UserRequest } from "../../../services/usercrm";

export type Delivery = "pending" | "sent" | "delivered" | "read" | "failed" | "declined";
const COLOR: Record<Delivery, string> = { pending: "gold", sent: "blue", delivered: "green", read: "green", failed: "red", declined: "gray" };

/** A message request's state → where its delivery stands (the platform's `result.delivery` when it says). */
export function delivery(r: Pick<UserRequest, "state" | "result">): Delivery {
  if (r.state === "failed") return "failed";
  if (r.state === "declined") return "declined";
  if (r.state === "completed") return r.result?.delivery === "read" ? "read" : "delivered";
  if (r.state === "awaiting_approval") return "pending";
  return "sent";
}

const when = (v: string | null | undefined) => (v ? dayjs(v).format("YYYY-MM-DD HH:mm") : "—");

export function MessagesTab({ customerId }: { customerId: string }) {
  const { t } = useI18n();
  const q = useInfiniteQuery({
    queryKey: ["usercrm", customerId, "messages"],
    queryFn: ({ pageParam, signal }) => messages(customerId, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    // while a shown message waits for the platform's answer, read again until its delivery is known
    refetchInterval: (q) => (q.state.data?.pages.some((p) => p.items.some((r) => ["pending", "sent"].includes(delivery(r)))) ? 5000 : false),
  });
  return (
    <QueryState query={q} isEmpty={(d) => d.pages.every((p) => p.items.length === 0)} empty={t("drawer.messages.empty")}>
      {(d) => (
        <>
          <Timeline data-testid="drawer-messages"
            items={d.pages.flatMap((p) => p.items).map((r) => {
              const s = delivery(r);
              const channel = String(r.summary?.channel ?? "");
              return {
                key: r.request_id,
                color: COLOR[s],
                children: (
                  <div data-testid={`drawer-message-${r.request_id}`} data-delivery={s}>
                    <Tag color={COLOR[s]}>{t(`drawer.messages.state.${s}` as MessageKey)}</Tag>
                    <Typography.Text strong>{channel ? t(`usercrm.channel.${channel}` as MessageKey) : "—"}</Typography.Text>
                    {" · "}{t("usercrm.template")}: {String(r.summary?.template_id ?? "—")}
                    <div>
                      <Typography.Text type="secondary">
                        {t("drawer.messages.by", { who: r.requested_by, at: when(r.requested_at) })}
                        {r.done_at ? ` · ${t("usercrm.doneAt")} ${when(r.done_at)}` : ""}
                      </Typography.Text>
                    </div>
                    {s === "failed" && (
                      <Typography.Text type="danger">{t("drawer.messages.failure")}: {r.failure_reason ?? r.failure_code ?? "—"}</Typography.Text>
                    )}
                  </div>
                ),
              };
            })} />
          {q.hasNextPage && (
            <Button onClick={() => void q.fetchNextPage()} loading={q.isFetchingNextPage} data-testid="drawer-messages-more">{t("drawer.messages.more")}</Button>
          )}
        </>
      )}
    </QueryState>
  );
}
