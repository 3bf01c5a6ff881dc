import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Institution } from "../../services/institutions";
import { mockFetch, renderWith } from "../../test/render";
import InstitutionsPage from "./InstitutionsPage";

const inst = (over: Partial<Institution> = {}): Institution => ({
  institution_id: "INST-A", name: "Alpha Securities", manager_id: "M-HK-2", team_id: "T-HK",
  created_at: "2026-12-03T09:00:00Z", updated_at: "2026-12-03T09:00:00Z", ...over,
});
const TEAMS = { items: [{ team_id: "T-HK", name: "Hong Kong", leader_id: null, protection_days: 7, changed_at: "" }] };
const MANAGERS = { items: [{ manager_id: "M-HK-2", name: "Cathy Ho", team_id: "T-HK", status: "active" }], next_cursor: null };

describe("the Institutions screen", () => {
  it("lists institutions with their manager and team; a manager without AssignmentManage gets no add or edit", async () => {
    const seen = mockFetch({
      "GET /api/customer/institutions": () => ({ items: [inst(), inst({ institution_id: "INST-B", name: "Beta Bank", manager_id: null, team_id: null })], next_cursor: null }),
      "GET /api/assignment/teams": () => TEAMS,
    });
    renderWith(<InstitutionsPage />, { role: "manager" });
    const table = await screen.findByTestId("institutions-table");
    await waitFor(() => expect(within(table).getByText("Alpha Securities")).toBeInTheDocument());
    expect(within(table).getByText("Hong Kong")).toBeInTheDocument(); // the team's name, not its id
    expect(within(table).getByText("Beta Bank")).toBeInTheDocument();
    expect(screen.queryByTestId("institution-add")).toBeNull();
    expect(screen.queryByRole("button", { name: "Edit INST-A" })).toBeNull();
    expect(seen.some((r) => r.url.pathname === "/api/assignment/managers")).toBe(false);
  });

  it("creates an institution: id and name required, the manager and team picked, the body as the API takes it", async () => {
    const seen = mockFetch({
      "GET /api/customer/institutions": () => ({ items: [], next_cursor: null }),
      "GET /api/assignment/teams": () => TEAMS,
      "GET /api/assignment/managers": () => MANAGERS,
      "POST /api/customer/institutions": () => new Response(JSON.stringify(inst({ institution_id: "INST-C", name: "Gamma" })), { status: 201 }),
    });
    renderWith(<InstitutionsPage />, { role: "team_lead" });
    expect(await screen.findByText("No institutions yet")).toBeInTheDocument();
    fireEvent.click(screen.getByTestId("institution-add"));
    const dialog = await screen.findByRole("dialog", { name: "Add institution" });
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(within(dialog).getAllByText("Required")).toHaveLength(2));
    fireEvent.change(within(dialog).getByLabelText("Institution id"), { target: { value: "bad id!" } });
    fireEvent.change(within(dialog).getByLabelText("Name"), { target: { value: "  Gamma  " } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(within(dialog).queryAllByText("Required")).toHaveLength(0));
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(0); // the id is refused before anything is sent
    fireEvent.change(within(dialog).getByLabelText("Institution id"), { target: { value: "INST-C" } });
    fireEvent.mouseDown(within(dialog).getByRole("combobox", { name: "Account manager" }));
    fireEvent.click(await screen.findByText("Cathy Ho (M-HK-2)"));
    fireEvent.mouseDown(within(dialog).getByRole("combobox", { name: "Team" }));
    fireEvent.click(await screen.findByTitle("Hong Kong"));
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(seen.filter((r) => r.method === "POST")).toHaveLength(1));
    const post = seen.find((r) => r.method === "POST")!;
    expect(post.url.pathname).toBe("/api/customer/institutions");
    expect(post.body).toEqual({ institution_id: "INST-C", name: "Gamma", manager_id: "M-HK-2", team_id: "T-HK" });
  });

  it("edits an institution by its id (which stays), and shows the API's problem when refused", async () => {
    const seen = mockFetch({
      "GET /api/customer/institutions": () => ({ items: [inst()], next_cursor: null }),
      "GET /api/assignment/teams": () => TEAMS,
      "GET /api/assignment/managers": () => MANAGERS,
      "PUT /api/customer/institutions/INST-A": () => new Response(JSON.stringify({ title: "Forbidden", status: 403, detail: "AssignmentManage required" }), { status: 403, headers: { "Content-Type": "application/problem+json" } }),
    });
    renderWith(<InstitutionsPage />, { role: "admin" });
    fireEvent.click(await screen.findByRole("button", { name: "Edit INST-A" }));
    const dialog = await screen.findByRole("dialog", { name: "Edit INST-A" });
    expect(within(dialog).getByLabelText("Institution id")).toBeDisabled();
    fireEvent.change(within(dialog).getByLabelText("Name"), { target: { value: "Alpha Sec." } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    expect(await within(dialog).findByText(/AssignmentManage required/)).toBeInTheDocument();
    const put = seen.find((r) => r.method === "PUT")!;
    expect(put.body).toEqual({ name: "Alpha Sec.", manager_id: "M-HK-2", team_id: "T-HK" });
  });

  it("speaks Chinese", async () => {
    mockFetch({ "GET /api/customer/institutions": () => ({ items: [inst()], next_cursor: null }), "GET /api/assignment/teams": () => TEAMS });
    renderWith(<InstitutionsPage />, { role: "admin", lang: "zh" });
    expect(await screen.findByRole("heading", { name: "机构" })).toBeInTheDocument();
    expect(await screen.findByText("新增机构")).toBeInTheDocument();
  });
});
