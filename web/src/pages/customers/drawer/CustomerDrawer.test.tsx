import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWith } from "../../../test/render";
import { CustomerDrawer } from "./CustomerDrawer";

const profile = {
  customer_id: "C-1", as_of: null,
  basic: { name: "Chan Tai Man", phone_dialing_code: "+852", phone_number: "****5678", email: null, registered_at: "2026-01-01T00:00:00Z",
    channel: "organic", campaign: null, referral_code: null, language: "zh", residence_country: "HK", registration_ip_country: "HK",
    user_region: "HK", active_region: "HK", tags: ["vip"], verification_status: "verified", verification_history: [] },
  identity: { verified_at: null, id_type: null, id_issuing_country: null, id_number: null, legal_name: null, date_of_birth: null },
  account_opening: { status: "opened", applications: [], accounts: [] },
  referral: { referrer_customer_id: null, referral_code: null, linked_at: null, referees: [] },
  assets: { total_assets: null, currency: null, as_of: null, deposits_total: {}, withdrawals_total: {}, accounts: [], positions: [], ada: null },
  funding: { recent_deposits: [], recent_withdrawals: [], first_deposit_at: null },
  trading: { trades_count: 0, first_trade_at: null, recent_trades: [] },
  lifecycle: { stage: "funded", stage_changed_at: null, timeline: [] },
  first_seen_at: null, last_activity_at: null, remarks_count: 1, managers: [], recent_remarks: [],
};
const none = { count: 0, items: [] };
const one = {
  customer_id: "C-1", profile,
  follow_ups: { count: 1, items: [{ id: "F1", follow_up_id: "F1", customer_id: "C-1", manager_id: "m-ann", contact_methods: ["phone"],
    tags: ["warm"], remarks: "Called: wants margin", recorded_at: "2026-03-01T10:00:00Z", intent: null, tier: null, task_id: null, next_follow_up_at: null }] },
  tickets: { count: 1, items: [{ ticket_id: "K1", category: "funding", priority: "high", status: "resolved", last_at: "2026-03-02T10:00:00Z" }] },
  kyc: { status: "approved", completion_pct: 100, high_risk: false, case_id: "KC1", updated_at: "2026-02-01T00:00:00Z", cases: [] },
  messages: none, requests: none,
  campaign_touches: { count: 1, items: [{ campaign_id: "cp1", campaign_name: "Spring", channels: ["phone"], requested_at: "2026-03-01T00:00:00Z", due_at: "2026-03-31T00:00:00Z" }] },
  remarks: [{ text: "Called: wants margin", author: "m-ann", at: "2026-03-01T10:00:00Z", sources: ["follow_up", "customer"] }],
  tags: [{ tag: "vip", sources: ["customer"] }, { tag: "warm", sources: ["follow_up"] }],
};

describe("the customer drawer on the one call", () => {
  it("reads GET /customers/{id}/360 once and feeds the tabs, the merged tags and remarks from it", async () => {
    const seen = mockFetch({ "GET /api/customer/customers/C-1/360": () => one });
    renderWith(<CustomerDrawer />, { url: "/customers?customer=C-1&tab=followups" });
    expect(await screen.findByText("Called: wants margin")).toBeInTheDocument();
    expect(screen.getAllByTestId("drawer-tag").map((x) => x.textContent)).toEqual(["vip", "warm"]);
    fireEvent.click(screen.getByRole("tab", { name: "Service history" }));
    expect(await screen.findByTestId("drawer-kyc-status")).toHaveTextContent("Approved");
    expect(screen.getByTestId("drawer-ticket-K1")).toHaveTextContent("Resolved");
    expect(screen.getByTestId("drawer-campaigns")).toHaveTextContent("Spring");
    fireEvent.click(screen.getByRole("tab", { name: "Remarks" }));
    await waitFor(() => expect(screen.getAllByTestId("remark-source").map((x) => x.textContent)).toEqual(["Follow-up", "Customer"]));
    const paths = seen.map((r) => r.url.pathname);
    expect(paths.filter((p) => p.startsWith("/api/customer/"))).toEqual(["/api/customer/customers/C-1/360"]);
    expect(paths.some((p) => p.includes("follow-ups") || p.endsWith("/remarks"))).toBe(false);
  });

  it("shows the risk rating of the latest assessment on the basic tab", async () => {
    const risk = { rating: "balanced", score: 55, assessment_id: "RA-1", assessed_at: "2026-02-01T00:00:00Z", valid_until: "2028-02-01T00:00:00Z" };
    mockFetch({ "GET /api/customer/customers/C-1/360": () => ({ ...one, profile: { ...profile, risk } }) });
    renderWith(<CustomerDrawer />, { url: "/customers?customer=C-1" });
    expect(await screen.findByTestId("drawer-risk")).toHaveTextContent("Balanced");
  });

  it("shows the past from the detail as of that time, without the current-only tabs", async () => {
    const seen = mockFetch({ "GET /api/customer/customers/C-1": () => ({ ...profile, as_of: "2026-01-02T00:00:00Z" }) });
    renderWith(<CustomerDrawer />, { url: "/customers?customer=C-1&as_of=2026-01-02T00:00:00Z" });
    expect(await screen.findByTestId("drawer-stage")).toHaveTextContent("Funded");
    expect(screen.queryByRole("tab", { name: "Service history" })).toBeNull();
    expect(seen[0].url.searchParams.get("as_of")).toBe("2026-01-02T00:00:00Z");
  });
});
