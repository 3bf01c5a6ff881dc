// The customer drawer (seed 000: "click a customer ID opens a drawer panel on the right"): tabs over the
// 360° detail, follow-ups, remarks, private notes and the assignment with its "why"; "as of" time travel.
// State in the URL: ?customer=ID&tab=…&as_of=ISO.
import { HistoryOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Alert, Button, DatePicker, Drawer, Space, Tabs, Tag } from "antd";
import dayjs from "dayjs";
import { useSearchParams } from "react-router";
import { useAuth } from "../../../auth/AuthProvider";
import { meets, TABS } from "../../../auth/catalogue";
import type { Perm } from "../../../auth/perms";
import { QueryState } from "../../../components/PageState";
import { useI18n } from "../../../i18n";
import type { MessageKey } from "../../../i18n/en";
import { getCustomer, getCustomer360, type Customer360 } from "../../../services/customers";
import type { CustomerDetail, FollowUp } from "../../../services/models";
import { AssignmentTab } from "./AssignmentTab";
import { AssetsTab, BasicTab, MovesTab, OpeningTab, ReferralTab } from "./DetailTabs";
import { FollowUpsTab } from "./FollowUpsTab";
import { MessagesTab } from "./MessagesTab";
import { ServiceTab } from "./ServiceTab";
import { NotesTab, RemarksTab } from "./TextEntriesTab";
import { WealthTab } from "./WealthTab";

export const DRAWER_TABS = ["basic", "opening", "referral", "assets", "moves", "followups", "service", "remarks", "notes", "messages", "wealth", "assignment"] as const;
export type DrawerTab = (typeof DRAWER_TABS)[number];
/** tabs that read the current state only (not the event store's past) */
const CURRENT_ONLY: DrawerTab[] = ["followups", "service", "remarks", "notes", "messages", "wealth", "assignment"];

/** What the drawer shows: now, the one call (GET /customers/{id}/360: the detail and the service history);
 *  in the past, the detail as of that time (the event store), without a history. */
export interface DrawerData { d: CustomerDetail; h: Customer360 | null }

export async function loadDrawer(id: string, asOf: string | null, signal?: AbortSignal): Promise<DrawerData> {
  if (asOf) return { d: await getCustomer(id, asOf, signal), h: null };
  const h = await getCustomer360(id, signal);
  return { d: h.profile, h };
}

/** The tabs shown: the current-only ones not when looking at the past; each only with its permission in the
 *  catalogue (`customers.tab.<tab>`, auth/catalogue.ts; the API still checks). */
export function visibleTabs(asOf: string | null, can: (p: Perm) => boolean): DrawerTab[] {
  return DRAWER_TABS.filter((k) => (!asOf || !CURRENT_ONLY.includes(k)) && meets(TABS[`customers.tab.${k}`], can));
}

export function CustomerDrawer() {
  const { t } = useI18n();
  const { can } = useAuth();
  const [params, setParams] = useSearchParams();
  const id = params.get("customer");
  const asOf = params.get("as_of");
  const tabParam = params.get("tab") as DrawerTab | null;
  const tabs = visibleTabs(asOf, can);
  const tab: DrawerTab = tabParam && tabs.includes(tabParam) ? tabParam : "basic";
  const detail = useQuery({
    queryKey: ["customer", id, asOf ? "detail" : "360", asOf],
    queryFn: ({ signal }) => loadDrawer(id!, asOf, signal),
    enabled: !!id,
  });
  const update = (patch: Record<string, string | null>) => {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) p.delete(k);
      else p.set(k, v);
    }
    setParams(p, { replace: true, state: window.history.state?.usr });
  };
  const close = () => update({ customer: null, tab: null, as_of: null });

  return (
    <Drawer
      open={!!id}
      onClose={close}
      width={880}
      destroyOnHidden
      title={id ? t("drawer.title", { id }) : ""}
      closable={{ "aria-label": t("common.close") }}
      extra={
        <Space>
          <HistoryOutlined aria-hidden />
          <label htmlFor="drawer-as-of">{t("drawer.asOf")}</label>
          <DatePicker
            id="drawer-as-of"
            showTime
            allowClear
            placeholder={t("drawer.now")}
            title={t("drawer.asOfHint")}
            value={asOf ? dayjs(asOf) : null}
            disabledDate={(d) => d.isAfter(dayjs())}
            onChange={(v) => update({ as_of: v ? v.toISOString() : null })}
            data-testid="drawer-as-of"
          />
        </Space>
      }
    >
      {asOf && (
        <Alert type="info" showIcon style={{ marginBottom: 12 }} message={t("drawer.historical", { at: dayjs(asOf).format("YYYY-MM-DD HH:mm") })}
          action={<Button size="small" onClick={() => update({ as_of: null })}>{t("drawer.now")}</Button>} />
      )}
      {id && (
        <QueryState query={detail}>
          {({ d, h }) => (
            <>
              <Space style={{ marginBottom: 8 }}>
                <Tag color="blue" data-testid="drawer-stage">{t(`stage.${d.lifecycle.stage}` as MessageKey)}</Tag>
                {(h ? h.tags.map((x) => x.tag) : d.basic.tags).map((x) => <Tag key={x} data-testid="drawer-tag">{x}</Tag>)}
              </Space>
              <Tabs
                tabPosition="left"
                activeKey={tab}
                onChange={(k) => update({ tab: k })}
                items={tabs.map((k) => ({
                  key: k,
                  label: t(`drawer.tab.${k}` as MessageKey),
                  children: k === "basic" ? <BasicTab d={d} />
                    : k === "opening" ? <OpeningTab d={d} />
                    : k === "referral" ? <ReferralTab d={d} onOpen={(other) => update({ customer: other, tab: null, as_of: null })} />
                    : k === "assets" ? <AssetsTab d={d} />
                    : k === "moves" ? <MovesTab d={d} />
                    : k === "followups" ? <FollowUpsTab customerId={d.customer_id} items={h?.follow_ups.items as FollowUp[] | undefined} />
                    : k === "service" && h ? <ServiceTab h={h} />
                    : k === "wealth" && h ? <WealthTab h={h} />
                    : k === "remarks" ? <RemarksTab customerId={d.customer_id} merged={h?.remarks} />
                    : k === "notes" ? <NotesTab customerId={d.customer_id} />
                    : k === "messages" ? <MessagesTab customerId={d.customer_id} />
                    : <AssignmentTab customerId={d.customer_id} />,
                }))}
              />
            </>
          )}
        </QueryState>
      )}
    </Drawer>
  );
}
