import { FilterOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Badge, Button, Col, DatePicker, Form, Input, Row, Select, Space } from "antd";
import dayjs from "dayjs";
import { memo, useEffect, useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { useI18n } from "../../i18n";
import { listBands, type BandList } from "../../services/customers";
import { ACCOUNT_STATUSES, CHANNELS, RISK_RATINGS, STAGES, VERIFICATION_STATUSES } from "../../services/models";
import { activeFilterCount, DEFAULT_FILTERS, SORTS, type CustomerFilters } from "./filters";

const REGIONS = ["HK", "SG", "CN", "MY", "US", "GB", "AU", "JP", "TW", "TH", "ID", "PH", "VN", "KR", "CA"];
const CURRENCIES = ["HKD", "USD", "SGD", "CNY", "EUR", "GBP", "AUD", "JPY"];
const TAG = /^[\w\- ]{1,40}$/;
const AGE = /^\d{1,3}$/;
const SECURITY = /^[A-Za-z0-9_\-.:]{1,32}$/;

/** "100,000 – 1,000,000 HKD" / "≥ 10,000,000 HKD" for a band of GET /customers/bands. */
export function bandLabel(band: BandList["items"][number], currency: string): string {
  const n = (v: string) => Number(v).toLocaleString();
  return band.high === null ? `≥ ${n(band.low)} ${currency}` : `${n(band.low)} – ${n(band.high)} ${currency}`;
}

/** A typed age or security only reaches the URL when the API would take it (a partly typed one is dropped). */
function valid(v: string, re: RegExp, max?: number): string | undefined {
  const s = v.trim();
  return s && re.test(s) && (max === undefined || Number(s) <= max) ? s : undefined;
}

export const CustomerFiltersBar = memo(function CustomerFiltersBar({ filters, onChange }: { filters: CustomerFilters; onChange: (f: CustomerFilters) => void }) {
  const { t, label } = useI18n();
  const { can } = useAuth();
  const pii = can("CustomerPiiRead"); // the API filters by age (from the date of birth) only for those who may read it
  const [q, setQ] = useState(filters.q ?? "");
  const [more, setMore] = useState(activeFilterCount(filters) > 0);
  useEffect(() => setQ(filters.q ?? ""), [filters.q]);
  const set = (patch: Partial<CustomerFilters>) => onChange({ ...filters, ...patch });
  const multi = (values: readonly string[], prefix: string) => values.map((v) => ({ value: v, label: label(prefix, v) }));
  const bands = useQuery({ queryKey: ["customers", "bands"], queryFn: ({ signal }) => listBands(signal), enabled: more, staleTime: 3_600_000 });
  const bandOptions = (bands.data?.items ?? []).map((b) => ({ value: b.key, label: bandLabel(b, bands.data!.currency) }));

  return (
    <section aria-label={t("customers.filters")} style={{ marginBottom: 16 }}>
      <Space wrap style={{ marginBottom: 12 }}>
        <Input.Search
          aria-label={t("common.search")}
          placeholder={t("customers.searchPlaceholder")}
          allowClear
          value={q}
          maxLength={100}
          onChange={(e) => setQ(e.target.value)}
          onSearch={(v) => set({ q: v.trim() || undefined })}
          style={{ width: 360 }}
          data-testid="customer-search"
          enterButton={t("common.search")}
        />
        <Select
          aria-label={t("customers.stage")}
          mode="multiple"
          allowClear
          placeholder={t("customers.stage")}
          value={filters.stage}
          options={multi(STAGES, "stage")}
          onChange={(v) => set({ stage: v })}
          style={{ minWidth: 220 }}
          data-testid="filter-stage"
        />
        <Select
          aria-label={t("customers.sort")}
          value={`${filters.sort}:${filters.order}`}
          onChange={(v: string) => { const [sort, order] = v.split(":"); set({ sort: sort as CustomerFilters["sort"], order: order as "asc" | "desc" }); }}
          options={SORTS.flatMap((s) => (["desc", "asc"] as const).map((o) => ({ value: `${s}:${o}`, label: `${t(`customers.sort.${s}`)} · ${t(`customers.order.${o}`)}` })))}
          style={{ width: 300 }}
          data-testid="sort"
        />
        <Badge count={activeFilterCount(filters)} size="small">
          <Button icon={<FilterOutlined />} onClick={() => setMore((m) => !m)} aria-expanded={more} aria-controls="more-filters">
            {t("customers.moreFilters")}
          </Button>
        </Badge>
        <Button onClick={() => onChange({ ...DEFAULT_FILTERS, limit: filters.limit })} data-testid="filters-reset">{t("common.reset")}</Button>
      </Space>
      {more && (
        <Form id="more-filters" layout="vertical" size="small" component="div">
          <Row gutter={12}>
            <Col span={6}>
              <Form.Item label={t("customers.userRegion")} htmlFor="f-user-region">
                <Select id="f-user-region" mode="multiple" allowClear value={filters.user_region} onChange={(v) => set({ user_region: v })}
                  options={REGIONS.map((r) => ({ value: r, label: r }))} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item label={t("customers.activeRegion")} htmlFor="f-active-region">
                <Select id="f-active-region" mode="multiple" allowClear value={filters.active_region} onChange={(v) => set({ active_region: v })}
                  options={REGIONS.map((r) => ({ value: r, label: r }))} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item label={t("customers.channel")} htmlFor="f-channel">
                <Select id="f-channel" mode="multiple" allowClear value={filters.channel} onChange={(v) => set({ channel: v })} options={multi(CHANNELS, "channel")} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item label={t("customers.registered")} htmlFor="f-registered">
                <DatePicker.RangePicker id={{ start: "f-registered" }} allowEmpty={[true, true]} style={{ width: "100%" }}
                  value={[filters.registered_from ? dayjs(filters.registered_from) : null, filters.registered_to ? dayjs(filters.registered_to) : null]}
                  onChange={(v) => set({ registered_from: v?.[0]?.format("YYYY-MM-DD"), registered_to: v?.[1]?.format("YYYY-MM-DD") })} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item label={t("customers.verification")} htmlFor="f-verification">
                <Select id="f-verification" mode="multiple" allowClear value={filters.verification_status} onChange={(v) => set({ verification_status: v })}
                  options={multi(VERIFICATION_STATUSES, "verification")} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item label={t("customers.accountStatus")} htmlFor="f-account">
                <Select id="f-account" mode="multiple" allowClear value={filters.account_status} onChange={(v) => set({ account_status: v })}
                  options={multi(ACCOUNT_STATUSES, "account")} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item label={t("customers.risk")} htmlFor="f-risk">
                <Select id="f-risk" mode="multiple" allowClear value={filters.risk_rating} onChange={(v) => set({ risk_rating: v })}
                  options={multi(RISK_RATINGS, "risk")} data-testid="filter-risk" />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item label={t("customers.assigned")} htmlFor="f-assigned">
                <Select id="f-assigned" allowClear value={filters.unassigned === undefined ? undefined : String(filters.unassigned)}
                  onChange={(v?: string) => set({ unassigned: v === undefined ? undefined : v === "true" })}
                  options={[{ value: "false", label: t("customers.assignedYes") }, { value: "true", label: t("customers.assignedNo") }]} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item label={t("customers.tag")} htmlFor="f-tag">
                <Select id="f-tag" mode="tags" allowClear value={filters.tag} onChange={(v: string[]) => set({ tag: v.filter((x) => TAG.test(x)) })} tokenSeparators={[","]} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item label={t("customers.manager")} htmlFor="f-manager">
                <Input id="f-manager" allowClear defaultValue={filters.manager_id} key={`m-${filters.manager_id ?? ""}`}
                  onBlur={(e) => set({ manager_id: e.target.value.trim() || undefined })}
                  onPressEnter={(e) => set({ manager_id: e.currentTarget.value.trim() || undefined })} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item label={t("customers.team")} htmlFor="f-team">
                <Input id="f-team" allowClear defaultValue={filters.team_id} key={`t-${filters.team_id ?? ""}`}
                  onBlur={(e) => set({ team_id: e.target.value.trim() || undefined })}
                  onPressEnter={(e) => set({ team_id: e.currentTarget.value.trim() || undefined })} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item label={t("customers.referrer")} htmlFor="f-referrer">
                <Input id="f-referrer" allowClear defaultValue={filters.referrer_customer_id} key={`r-${filters.referrer_customer_id ?? ""}`}
                  onBlur={(e) => set({ referrer_customer_id: e.target.value.trim() || undefined })}
                  onPressEnter={(e) => set({ referrer_customer_id: e.currentTarget.value.trim() || undefined })} />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item label={t("customers.assets")} htmlFor="f-assets-min">
                <Space.Compact style={{ width: "100%" }}>
                  <Select aria-label={t("customers.assetsCurrency")} value={filters.assets_currency} allowClear placeholder="CCY" style={{ width: 90 }}
                    onChange={(v?: string) => set({ assets_currency: v })} options={CURRENCIES.map((c) => ({ value: c, label: c }))} />
                  <Input id="f-assets-min" aria-label={t("customers.assetsMin")} placeholder="≥" inputMode="decimal" defaultValue={filters.assets_min} key={`amin-${filters.assets_min ?? ""}`}
                    onBlur={(e) => set({ assets_min: e.target.value.trim() || undefined })} />
                  <Input aria-label={t("customers.assetsMax")} placeholder="≤" inputMode="decimal" defaultValue={filters.assets_max} key={`amax-${filters.assets_max ?? ""}`}
                    onBlur={(e) => set({ assets_max: e.target.value.trim() || undefined })} />
                </Space.Compact>
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item label={t("customers.deposit")} htmlFor="f-deposit-min">
                <Space.Compact style={{ width: "100%" }}>
                  <Select aria-label={t("customers.depositCurrency")} value={filters.deposit_currency} allowClear placeholder="CCY" style={{ width: 90 }}
                    onChange={(v?: string) => set({ deposit_currency: v })} options={CURRENCIES.map((c) => ({ value: c, label: c }))} />
                  <Input id="f-deposit-min" aria-label={t("customers.depositMin")} placeholder="≥" inputMode="decimal" defaultValue={filters.deposit_min} key={`dmin-${filters.deposit_min ?? ""}`}
                    onBlur={(e) => set({ deposit_min: e.target.value.trim() || undefined })} />
                  <Input aria-label={t("customers.depositMax")} placeholder="≤" inputMode="decimal" defaultValue={filters.deposit_max} key={`dmax-${filters.deposit_max ?? ""}`}
                    onBlur={(e) => set({ deposit_max: e.target.value.trim() || undefined })} />
                </Space.Compact>
              </Form.Item>
            </Col>
            {(["asset_band", "ada_band"] as const).map((k) => (
              <Col span={6} key={k}>
                <Form.Item label={t(k === "asset_band" ? "customers.assetBand" : "customers.adaBand")} htmlFor={`f-${k.replace("_", "-")}`}>
                  <Select id={`f-${k.replace("_", "-")}`} mode="multiple" allowClear value={filters[k]} onChange={(v: string[]) => set({ [k]: v })}
                    options={bandOptions} loading={bands.isLoading} data-testid={`filter-${k.replace("_", "-")}`} />
                </Form.Item>
              </Col>
            ))}
            {pii && (
              <Col span={6}>
                <Form.Item label={t("customers.age")} htmlFor="f-age-min">
                  <Space.Compact style={{ width: "100%" }}>
                    <Input id="f-age-min" aria-label={t("customers.ageMin")} placeholder="≥" inputMode="numeric" defaultValue={filters.age_min} key={`agemin-${filters.age_min ?? ""}`}
                      onBlur={(e) => set({ age_min: valid(e.target.value, AGE, 150) })}
                      onPressEnter={(e) => set({ age_min: valid(e.currentTarget.value, AGE, 150) })} data-testid="filter-age-min" />
                    <Input aria-label={t("customers.ageMax")} placeholder="≤" inputMode="numeric" defaultValue={filters.age_max} key={`agemax-${filters.age_max ?? ""}`}
                      onBlur={(e) => set({ age_max: valid(e.target.value, AGE, 150) })}
                      onPressEnter={(e) => set({ age_max: valid(e.currentTarget.value, AGE, 150) })} data-testid="filter-age-max" />
                  </Space.Compact>
                </Form.Item>
              </Col>
            )}
            <Col span={6}>
              <Form.Item label={t("customers.holds")} htmlFor="f-holds">
                <Input id="f-holds" allowClear placeholder="0700.HK" defaultValue={filters.holds} key={`h-${filters.holds ?? ""}`}
                  onBlur={(e) => set({ holds: valid(e.target.value, SECURITY) })}
                  onPressEnter={(e) => set({ holds: valid(e.currentTarget.value, SECURITY) })} data-testid="filter-holds" />
              </Form.Item>
            </Col>
          </Row>
        </Form>
      )}
    </section>
  );
});
