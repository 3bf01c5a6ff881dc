import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/problem";
import { mockFetch, renderWith } from "../../test/render";
import { areaOf, assignBody, buildTree, formFieldErrors, groupPermissions, isLeaf, parentChoices, roleDefinition } from "./model";
import OrgTreePage from "./OrgTreePage";
import RolesPage from "./RolesPage";
import StaffPage from "./StaffPage";

const A = "/api/access/access";
const catalogue = { items: [
  { name: "ClientProfileReadOnly", description: "read customer profiles" },
  { name: "CustomerExport", description: "export customers" },
  { name: "KycReview", description: "review KYC cases" },
  { name: "AccessManage", description: "roles, org tree, staff" },
] };
const nodes = { next_cursor: null, items: [
  { node_id: "HQ", kind: "company", parent_id: null, name: "Whale" },
  { node_id: "R-A", kind: "region", parent_id: "HQ", name: "Asia" },
  { node_id: "R-E", kind: "region", parent_id: "HQ", name: "Europe" },
  { node_id: "B-HK", kind: "branch", parent_id: "R-A", name: "Hong Kong" },
  { node_id: "T-HK", kind: "team", parent_id: "B-HK", name: "HK team" },
] };
const role = { role_id: "rm", name: "Relationship Manager", permissions: ["ClientProfileReadOnly"], scope: "own", node_id: null, retired: false, version: 1 };
const problem = (status: number, body: object) => new Response(JSON.stringify({ status, ...body }), { status, headers: { "Content-Type": "application/problem+json" } });

describe("access model", () => {
  it("groups the catalogue by area, keeps the service's order and drops empty areas", () => {
    expect(areaOf("UserTabLogs")).toBe("usercrm");
    expect(areaOf("ClientProfileReadOnly")).toBe("customers");
    expect(groupPermissions(catalogue.items as never).map((g) => [g.area, g.items.map((p) => p.name)])).toEqual([
      ["customers", ["ClientProfileReadOnly", "CustomerExport"]], ["kyc", ["KycReview"]], ["admin", ["AccessManage"]]]);
  });

  it("builds the tree, offers parents one level up, knows leaves", () => {
    const all = nodes.items as never[];
    const tree = buildTree(all);
    expect(tree.map((x) => x.key)).toEqual(["HQ"]);
    expect(tree[0].children.map((x) => x.key)).toEqual(["R-A", "R-E"]);
    expect(parentChoices(all, { kind: "branch", parent_id: "R-A" }).map((n: { node_id: string }) => n.node_id)).toEqual(["R-E"]);
    expect(isLeaf(all, "T-HK")).toBe(true);
    expect(isLeaf(all, "B-HK")).toBe(false);
  });

  it("sends a node only with a node scope; empty times are now and open-ended", () => {
    expect(roleDefinition({ name: " RM ", permissions: ["KycReview"], scope: "team", node_id: "R-A" })).toEqual({ name: "RM", permissions: ["KycReview"], scope: "team", node_id: null });
    expect(roleDefinition({ name: "GM", permissions: [], scope: "node", node_id: "R-A" }).node_id).toBe("R-A");
    expect(assignBody({ role_id: "rm", node_id: "" })).toEqual({ role_id: "rm", node_id: null, effective_from: null, effective_until: null });
    expect(assignBody({ role_id: "rm", effective_from: "2026-12-01T09:00" }).effective_from).toMatch(/^2026-12-0[01]T\d\d:00:00\.000Z$/);
  });

  it("places a problem's field messages on the form's fields only", () => {
    const err = new ApiError(422, { errors: [{ field: "body.permissions.1", message: "unknown" }, { field: "query.x", message: "no" }] }, null);
    expect(formFieldErrors(err, ["permissions", "name"] as const)).toEqual([{ name: "permissions", errors: ["unknown"] }]);
    expect(formFieldErrors(new Error("x"), ["name"] as const)).toEqual([]);
  });
});

describe("Roles and permissions", () => {
  it("an access manager creates a role from the grouped catalogue; the service's 422 shows at the field", async () => {
    let refuse = true;
    const seen = mockFetch({
      [`GET ${A}/roles`]: () => ({ items: [role], next_cursor: null }),
      [`GET ${A}/permissions`]: () => catalogue,
      [`GET ${A}/org/nodes`]: () => nodes,
      [`POST ${A}/roles`]: () => (refuse
        ? problem(422, { title: "Unprocessable Entity", errors: [{ field: "permissions", message: "unknown permission 'X'" }] })
        : { ...role, role_id: "desk", name: "Desk", permissions: ["CustomerExport", "KycReview"] }),
    });
    renderWith(<RolesPage />, { role: "admin" });
    expect(await screen.findByText("Relationship Manager")).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId("role-new")).toBeEnabled());
    fireEvent.click(screen.getByTestId("role-new"));
    fireEvent.change(await screen.findByTestId("role-id"), { target: { value: "desk" } });
    fireEvent.change(screen.getByTestId("role-name"), { target: { value: "Desk" } });
    const picker = screen.getByTestId("role-permissions");
    expect(within(picker).getByText("KYC review")).toBeInTheDocument(); // the area's legend
    expect(within(picker).getByText("export customers")).toBeInTheDocument(); // a description
    fireEvent.click(within(picker).getByTestId("perm-KycReview"));
    fireEvent.click(within(picker).getByTestId("perm-CustomerExport"));
    fireEvent.click(screen.getByTestId("role-save"));
    expect(await screen.findAllByText("unknown permission 'X'")).not.toHaveLength(0);
    const post = seen.find((r) => r.method === "POST");
    expect(post?.body).toEqual({ role_id: "desk", name: "Desk", permissions: ["CustomerExport", "KycReview"], scope: "own", node_id: null });
    refuse = false;
    fireEvent.click(screen.getByTestId("role-save"));
    await waitFor(() => expect(seen.filter((r) => r.method === "POST")).toHaveLength(2));
  });

  it("an auditor reads the roles with no button to change them", async () => {
    mockFetch({
      [`GET ${A}/roles`]: () => ({ items: [role], next_cursor: null }),
      [`GET ${A}/permissions`]: () => catalogue,
      [`GET ${A}/org/nodes`]: () => nodes,
    });
    renderWith(<RolesPage />, { role: "auditor" });
    expect(await screen.findByText("Relationship Manager")).toBeInTheDocument();
    expect(screen.queryByTestId("role-new")).toBeNull();
    expect(screen.queryByTestId("role-edit-rm")).toBeNull();
    expect(screen.getByText(/Read-only/)).toBeInTheDocument();
  });
});

describe("Organisation", () => {
  it("shows the tree and explains a 409 on removing a leaf in use", async () => {
    mockFetch({
      [`GET ${A}/org/nodes`]: () => nodes,
      [`DELETE ${A}/org/nodes/T-HK`]: () => problem(409, { title: "Conflict", detail: "organisation node 'T-HK' is in use" }),
    });
    renderWith(<OrgTreePage />, { role: "admin" });
    fireEvent.click(await screen.findByText(/HK team/));
    fireEvent.click(await screen.findByTestId("org-remove"));
    fireEvent.click(await screen.findByRole("button", { name: "Remove" }));
    expect(await screen.findByTestId("org-in-use")).toHaveTextContent(/still points at it/);
  });
});

describe("Staff", () => {
  const member = { staff_id: "M-HK-1", display_name: "Ann", node_id: "T-HK", status: "active", version: 3,
    assignments: [{ assignment_id: "a1", role_id: "rm", node_id: null, effective_from: "2026-11-01T00:00:00Z", effective_until: null }] };
  it("a member's page shows the effective access and exits them after a confirmation", async () => {
    let status = "active";
    const seen = mockFetch({
      [`GET ${A}/staff`]: () => ({ items: [member], next_cursor: null }),
      [`GET ${A}/staff/M-HK-1`]: () => ({ ...member, status }),
      [`GET ${A}/staff/M-HK-1/effective`]: () => ({ staff_id: "M-HK-1", at: "2026-12-01T00:00:00Z", active: status === "active", roles: status === "active" ? ["rm"] : [],
        permissions: status === "active" ? ["ClientProfileReadOnly"] : [], scope: "own", teams: [], team_id: "T-HK", valid_until: null }),
      [`GET ${A}/org/nodes`]: () => nodes,
      [`GET ${A}/roles`]: () => ({ items: [role], next_cursor: null }),
      [`POST ${A}/staff/M-HK-1/roles`]: () => member,
      [`POST ${A}/staff/M-HK-1/exit`]: () => { status = "exited"; return { ...member, status, assignments: [] }; },
    });
    renderWith(<StaffPage />, { role: "admin", url: "/access/staff?staff=M-HK-1" });
    const effective = await screen.findByTestId("effective-perms");
    await waitFor(() => expect(effective).toHaveTextContent("ClientProfileReadOnly"));
    expect(seen.find((r) => r.url.pathname === `${A}/staff`)?.url.searchParams.get("status")).toBe("active");
    fireEvent.click(screen.getByTestId("staff-exit"));
    fireEvent.click(await screen.findByTestId("staff-exit-confirm"));
    await waitFor(() => expect(screen.getByTestId("staff-status")).toHaveTextContent("Exited"));
    expect(seen.filter((r) => r.method === "POST").map((r) => r.url.pathname)).toEqual([`${A}/staff/M-HK-1/exit`]);
    await waitFor(() => expect(screen.getByTestId("staff-effective")).toHaveTextContent(/No access/));
    expect(screen.queryByTestId("assign-save")).toBeNull(); // no assignment to an exited member
  });

  it("read-only for an auditor: no assign, revoke nor exit", async () => {
    mockFetch({
      [`GET ${A}/staff`]: () => ({ items: [member], next_cursor: null }),
      [`GET ${A}/staff/M-HK-1`]: () => member,
      [`GET ${A}/staff/M-HK-1/effective`]: () => ({ staff_id: "M-HK-1", at: "2026-12-01T00:00:00Z", active: true, roles: ["rm"], permissions: [], scope: "own", teams: [], team_id: null, valid_until: null }),
      [`GET ${A}/org/nodes`]: () => nodes,
      [`GET ${A}/roles`]: () => ({ items: [role], next_cursor: null }),
    });
    renderWith(<StaffPage />, { role: "auditor", url: "/access/staff?staff=M-HK-1" });
    expect(await screen.findByTestId("staff-effective")).toBeInTheDocument();
    await screen.findByTestId("staff-assignments");
    expect(screen.queryByTestId("staff-exit")).toBeNull();
    expect(screen.queryByTestId("assign-save")).toBeNull();
    expect(screen.queryByTestId("staff-revoke-rm")).toBeNull();
  });
});
