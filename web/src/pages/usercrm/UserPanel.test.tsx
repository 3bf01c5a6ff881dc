import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Perm } from "../../auth/perms";
import { ROLE_PERMS } from "../../test/roles";
import { mockFetch, renderWith } from "../../test/render";
import { templateVariables } from "./ActionDialog";
import { allowedActions, UserPanel } from "./UserPanel";

const can = (role: keyof typeof ROLE_PERMS) => (p: Perm) => ROLE_PERMS[role].includes(p);
const profile = { customer_id: "C-1", completion_pct: 60, missing: ["banking"], access: { blocked: false, since: null }, social_links: {} };

describe("user management actions", () => {
  it("shows each role the buttons its permissions allow", () => {
    expect(allowedActions(can("auditor"), false)).toEqual([]);
    expect(allowedActions(can("manager"), false)).toEqual(["message", "account", "deposit", "withdraw", "allocation"]);
    expect(allowedActions(can("team_lead"), false)).toContain("block");
    expect(allowedActions(can("team_lead"), true)).toContain("unblock");
    expect(allowedActions(can("team_lead"), true)).not.toContain("block");
  });

  it("asks a reason before blocking, then sends it", async () => {
    const seen = mockFetch({
      "GET /api/usercrm/usercrm/customers/C-1/profile": () => profile,
      "GET /api/usercrm/usercrm/customers/C-1/requests": () => ({ items: [], next_cursor: null }),
      "GET /api/usercrm/usercrm/customers/C-1/accounts": () => ({ items: [] }),
      "POST /api/usercrm/usercrm/customers/C-1/block": () => ({ request_id: "R1", state: "submitted" }),
    });
    renderWith(<UserPanel customerId="C-1" />, { role: "team_lead" });
    fireEvent.click(await screen.findByTestId("user-action-block"));
    fireEvent.change(await screen.findByTestId("usercrm-reason"), { target: { value: " no " } }); // 2 once trimmed
    fireEvent.click(screen.getByRole("button", { name: "Submit" }));
    expect(await screen.findByText("3 to 200 characters")).toBeInTheDocument();
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(0);
    fireEvent.change(screen.getByTestId("usercrm-reason"), { target: { value: "fraud report 77" } });
    fireEvent.click(screen.getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(seen.find((r) => r.method === "POST")?.body).toEqual({ reason: "fraud report 77" }));
  });

  it("an auditor sees the panel and no action button", async () => {
    mockFetch({
      "GET /api/usercrm/usercrm/customers/C-1/profile": () => profile,
      "GET /api/usercrm/usercrm/customers/C-1/requests": () => ({ items: [], next_cursor: null }),
      "GET /api/usercrm/usercrm/customers/C-1/accounts": () => ({ items: [] }),
    });
    renderWith(<UserPanel customerId="C-1" />, { role: "auditor" });
    expect(await screen.findByTestId("user-panel")).toBeInTheDocument();
    expect(screen.queryByTestId(/^user-action-/)).toBeNull();
  });

  it("asks for the fields a template needs (free text: subject and text) and sends them as its variables", async () => {
    const seen = mockFetch({
      "GET /api/usercrm/usercrm/customers/C-1/profile": () => profile,
      "GET /api/usercrm/usercrm/customers/C-1/requests": () => ({ items: [], next_cursor: null }),
      "GET /api/usercrm/usercrm/customers/C-1/accounts": () => ({ items: [] }),
      "GET /api/usercrm/usercrm/message-templates": () => ({ items: [
        { template_id: "free_text", subject: "{subject}", body: "{text}" },
        { template_id: "kyc_reminder", subject: "Complete your profile", body: "Hello {name}, a few documents." },
      ] }),
      "POST /api/usercrm/usercrm/customers/C-1/messages": () => ({ request_id: "R1", state: "submitted" }),
    });
    renderWith(<UserPanel customerId="C-1" />, { role: "manager" });
    fireEvent.click(await screen.findByTestId("user-action-message"));
    const dialog = await screen.findByRole("dialog");
    await waitFor(() => expect(seen.some((r) => r.url.pathname.endsWith("/message-templates"))).toBe(true));
    await waitFor(() => expect(within(dialog).getByRole("combobox", { name: "Template" }).closest(".ant-select-loading")).toBeNull());
    fireEvent.mouseDown(within(dialog).getByRole("combobox", { name: "Template" }));
    // the option's text is also in the listbox antd keeps for screen readers: click the visible option
    await waitFor(() => expect(document.querySelector(".ant-select-item-option[title='free_text']")).not.toBeNull());
    fireEvent.click(document.querySelector(".ant-select-item-option[title='free_text']")!);
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(within(dialog).getAllByText("Required")).toHaveLength(2));
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(0);
    fireEvent.change(await within(dialog).findByTestId("usercrm-var-subject"), { target: { value: "Your statement" } });
    fireEvent.change(within(dialog).getByTestId("usercrm-var-text"), { target: { value: "It is ready in the app." } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(seen.find((r) => r.method === "POST")?.body).toEqual(
      { channel: "in_app", template_id: "free_text", variables: { subject: "Your statement", text: "It is ready in the app." } }));
  });

  it("a template's fields are its placeholders but the two the service fills in, once each", () => {
    expect(templateVariables({ subject: "{subject}", body: "{text} — {subject}" })).toEqual(["subject", "text"]);
    expect(templateVariables({ subject: "Welcome to {brand}", body: "Hello {name}" })).toEqual([]);
    expect(templateVariables({ body: "{{literal}} and {amount}" })).toEqual(["amount"]);
    expect(templateVariables(undefined)).toEqual([]);
  });
});
