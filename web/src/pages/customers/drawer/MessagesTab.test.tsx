import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Perm } from "../../../auth/perms";
import { ROLE_PERMS } from "../../../test/roles";
import { mockFetch, renderWith } from "../../../test/render";
import { visibleTabs } from "./CustomerDrawer";
import { delivery, MessagesTab } from "./MessagesTab";

const can = (role: keyof typeof ROLE_PERMS) => (p: Perm) => ROLE_PERMS[role].includes(p);
const base = {
  customer_id: "C-1", action: "send_message", needs_approval: false, requested_role: "manager", reason: null,
  approved_by: null, decided_at: null, amount: null, currency: null, failure_code: null, failure_reason: null, done_at: null,
};
const delivered = { ...base, request_id: "R2", state: "completed", requested_by: "u-ann", requested_at: "2026-03-02T10:00:00Z",
  summary: { channel: "email", template_id: "welcome" }, result: { delivery: "delivered" }, done_at: "2026-03-02T10:01:00Z" };
const failed = { ...base, request_id: "R1", state: "failed", requested_by: "u-bob", requested_at: "2026-03-01T09:00:00Z",
  summary: { channel: "sms", template_id: "kyc_reminder" }, result: {}, failure_code: "bad_number", failure_reason: "The phone number does not exist" };
const URL_ = "GET /api/usercrm/usercrm/customers/C-1/requests";

describe("the customer drawer's messages", () => {
  it("shows delivered and failed messages newest first, with channel, template, who and the failure reason", async () => {
    const seen = mockFetch({ [URL_]: () => ({ items: [delivered, failed], next_cursor: null }) });
    renderWith(<MessagesTab customerId="C-1" />, { role: "manager" });
    const ok = await screen.findByTestId("drawer-message-R2");
    const ko = screen.getByTestId("drawer-message-R1");
    expect(ok).toHaveAttribute("data-delivery", "delivered");
    expect(ok).toHaveTextContent("Delivered");
    expect(ok).toHaveTextContent("E-mail");
    expect(ok).toHaveTextContent("welcome");
    expect(ok).toHaveTextContent("u-ann");
    expect(ko).toHaveTextContent("Failed");
    expect(ko).toHaveTextContent("SMS");
    expect(ko).toHaveTextContent("The phone number does not exist");
    expect(ok.compareDocumentPosition(ko) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    const q = seen[0].url.searchParams;
    expect(q.get("action")).toBe("send_message");
  });

  it("loads older pages with the cursor", async () => {
    const seen = mockFetch({ [URL_]: (u) => (u.searchParams.get("cursor") ? { items: [failed], next_cursor: null } : { items: [delivered], next_cursor: "c1" }) });
    renderWith(<MessagesTab customerId="C-1" />, { role: "manager" });
    fireEvent.click(await screen.findByTestId("drawer-messages-more"));
    expect(await screen.findByTestId("drawer-message-R1")).toBeInTheDocument();
    expect(screen.queryByTestId("drawer-messages-more")).toBeNull();
    await waitFor(() => expect(seen).toHaveLength(2));
  });

  it("says so when no message was sent", async () => {
    mockFetch({ [URL_]: () => ({ items: [], next_cursor: null }) });
    renderWith(<MessagesTab customerId="C-1" />, { role: "manager" });
    expect(await screen.findByText("No messages sent to this customer yet")).toBeInTheDocument();
  });

  it("shows the API's 403 plainly", async () => {
    mockFetch({ [URL_]: () => new Response(JSON.stringify({ title: "Forbidden", status: 403, detail: "missing permission" }), { status: 403, headers: { "Content-Type": "application/problem+json" } }) });
    renderWith(<MessagesTab customerId="C-1" />, { role: "manager" });
    expect(await screen.findByRole("alert")).toHaveTextContent("403");
  });

  it("is hidden without the permission to read requests, and in the past", () => {
    expect(visibleTabs(null, can("manager"))).toContain("messages");
    expect(visibleTabs(null, can("operator"))).not.toContain("messages");
    expect(visibleTabs("2026-01-01T00:00:00Z", can("manager"))).not.toContain("messages");
  });

  it("maps request states to delivery", () => {
    expect(delivery({ state: "awaiting_approval", result: {} })).toBe("pending");
    expect(delivery({ state: "submitted", result: {} })).toBe("sent");
    expect(delivery({ state: "completed", result: { delivery: "read" } })).toBe("read");
  });
});
