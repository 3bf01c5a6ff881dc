import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import type { UserRequest } from "../../services/usercrm";
import { changeState, ownerFollowing } from "./ManagementDialogs";
import { UserPanel } from "./UserPanel";

const profile = (over: Record<string, unknown> = {}) => ({
  customer_id: "C-1", completion_pct: 60, missing: [], social_links: {},
  access: { blocked: false, since: null, level: "support" }, owner: { manager_id: "M-1", team_id: "T-HK", since: null }, ...over,
});
const request = (over: Partial<UserRequest>): UserRequest => ({
  request_id: "R", customer_id: "C-1", action: "change_owner", state: "submitted", needs_approval: false, requested_by: "L1",
  requested_role: "team_lead", requested_at: "2026-12-02T10:00:00Z", reason: "x", approved_by: null, decided_at: null, amount: null,
  currency: null, summary: { owner_id: "M-2" }, result: {}, failure_code: null, failure_reason: null, done_at: null, ...over,
});
const routes = (requests: UserRequest[] = [], prof = profile()) => ({
  "GET /api/usercrm/usercrm/customers/C-1/profile": () => prof,
  "GET /api/usercrm/usercrm/customers/C-1/requests": () => ({ items: requests, next_cursor: null }),
  "GET /api/usercrm/usercrm/customers/C-1/accounts": () => ({ items: [] }),
  "GET /api/assignment/managers": () => ({ items: [
    { manager_id: "M-1", name: "Ann Lee", team_id: "T-HK", status: "active" },
    { manager_id: "M-2", name: "Cathy Ho", team_id: "T-HK", status: "active" },
  ], next_cursor: null }),
});

describe("owner and access level: the state beside the value", () => {
  it("is the latest request's: pending with the value asked for, failed with the reason, nothing once done", () => {
    expect(changeState([], "owner")).toBeNull();
    expect(changeState([request({ state: "accepted" })], "owner")).toEqual({ state: "pending", value: "M-2", reason: null });
    const failed = request({ request_id: "R2", state: "failed", failure_reason: "not an admin", requested_at: "2026-12-02T11:00:00Z" });
    expect(changeState([request({ state: "completed" }), failed], "owner")).toEqual({ state: "failed", value: "M-2", reason: "not an admin" });
    expect(changeState([failed, request({ request_id: "R3", state: "completed", requested_at: "2026-12-02T12:00:00Z" })], "owner")).toBeNull();
    expect(changeState([request({ action: "change_access_level", state: "awaiting_approval", summary: { access_level: "admin" } })], "access"))
      .toEqual({ state: "pending", value: "admin", reason: null });
    expect(changeState([request({ state: "accepted" })], "access")).toBeNull(); // another action
  });

  it("reads the profile again until a completed owner change shows, for two minutes at most", () => {
    const done = request({ state: "completed", done_at: "2026-12-02T10:00:00Z" });
    const at = Date.parse("2026-12-02T10:00:30Z");
    expect(ownerFollowing(profile(), [done], at)).toBe(true);
    expect(ownerFollowing(profile({ owner: { manager_id: "M-2", team_id: "T-HK", since: null } }), [done], at)).toBe(false);
    expect(ownerFollowing(profile(), [done], at + 180_000)).toBe(false);
    expect(ownerFollowing(profile(), [request({ state: "failed", done_at: "2026-12-02T10:00:00Z" })], at)).toBe(false);
  });
});

describe("the owner and access-level forms", () => {
  it("are offered by permission: neither to a manager, the owner to a team lead, both to an admin", async () => {
    mockFetch(routes());
    const { unmount } = renderWith(<UserPanel customerId="C-1" />, { role: "manager" });
    await screen.findByTestId("user-panel");
    expect(screen.queryByTestId("user-change-owner")).toBeNull();
    expect(screen.queryByTestId("user-change-access-level")).toBeNull();
    unmount();
    const lead = renderWith(<UserPanel customerId="C-1" />, { role: "team_lead" });
    expect(await screen.findByTestId("user-change-owner")).toBeInTheDocument();
    expect(screen.queryByTestId("user-change-access-level")).toBeNull();
    lead.unmount();
    renderWith(<UserPanel customerId="C-1" />, { role: "admin" });
    expect(await screen.findByTestId("user-change-owner")).toBeInTheDocument();
    expect(screen.getByTestId("user-change-access-level")).toBeInTheDocument();
    expect(screen.getByTestId("user-owner")).toHaveTextContent("M-1");
    expect(screen.getByTestId("user-access-level")).toHaveTextContent("Support");
  });

  it("the owner: required, not the current owner, a reason of 3+ characters; then the request is sent", async () => {
    const seen = mockFetch({ ...routes(), "POST /api/usercrm/usercrm/customers/C-1/owner": () => request({}) });
    renderWith(<UserPanel customerId="C-1" />, { role: "team_lead" });
    fireEvent.click(await screen.findByTestId("user-change-owner"));
    const dialog = await screen.findByRole("dialog", { name: "Change owner" });
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(within(dialog).getAllByText("Required")).toHaveLength(2));
    fireEvent.mouseDown(within(dialog).getByRole("combobox", { name: "New owner" }));
    fireEvent.click(await screen.findByText("Ann Lee (M-1)"));
    fireEvent.change(within(dialog).getByLabelText("Reason"), { target: { value: " x " } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    expect(await within(dialog).findByText("This manager already owns the customer")).toBeInTheDocument();
    expect(await within(dialog).findByText("3 to 200 characters")).toBeInTheDocument();
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(0);
    fireEvent.mouseDown(within(dialog).getByRole("combobox", { name: "New owner" }));
    fireEvent.click(await screen.findByText("Cathy Ho (M-2)"));
    fireEvent.change(within(dialog).getByLabelText("Reason"), { target: { value: "  Ann on leave " } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(seen.find((r) => r.method === "POST")?.body).toEqual({ owner_id: "M-2", reason: "Ann on leave" }));
    expect(seen.find((r) => r.method === "GET" && r.url.pathname === "/api/assignment/managers")!.url.searchParams.get("status")).toBe("active");
  });

  it("the access level: not the current one, with a reason; the API's refusal is shown", async () => {
    const seen = mockFetch({
      ...routes(),
      "POST /api/usercrm/usercrm/customers/C-1/access-level": () => new Response(JSON.stringify({ title: "Conflict", status: 409, detail: "the access level is already that" }), { status: 409 }),
    });
    renderWith(<UserPanel customerId="C-1" />, { role: "admin" });
    fireEvent.click(await screen.findByTestId("user-change-access-level"));
    const dialog = await screen.findByRole("dialog", { name: "Change access level" });
    fireEvent.mouseDown(within(dialog).getByRole("combobox", { name: "New access level" }));
    fireEvent.click(await screen.findByTitle("Support"));
    fireEvent.change(within(dialog).getByLabelText("Reason"), { target: { value: "joins the desk" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    expect(await within(dialog).findByText("The user already has this level")).toBeInTheDocument();
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(0);
    fireEvent.mouseDown(within(dialog).getByRole("combobox", { name: "New access level" }));
    fireEvent.click(await screen.findByTitle("Read only"));
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(seen.find((r) => r.method === "POST")?.body).toEqual({ access_level: "read_only", reason: "joins the desk" }));
    expect(await within(dialog).findByText("the access level is already that")).toBeInTheDocument();
  });

  it("shows a pending owner change and a failed access-level change on the panel", async () => {
    mockFetch(routes([
      request({ state: "accepted" }),
      request({ request_id: "R2", action: "change_access_level", state: "failed", summary: { access_level: "admin" }, failure_reason: "level not allowed" }),
    ]));
    renderWith(<UserPanel customerId="C-1" />, { role: "admin" });
    expect(await screen.findByTestId("user-owner-pending")).toHaveTextContent("Pending: M-2");
    expect(await screen.findByTestId("user-access-failed")).toHaveTextContent("Last change failed: level not allowed");
  });
});
