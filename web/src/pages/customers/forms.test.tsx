import { fireEvent, screen, waitFor } from "@testing-library/react";
import dayjs from "dayjs";
import { describe, expect, it, vi } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import { AssignDialog } from "./AssignDialog";
import { FollowUpForm, toFollowUpBody } from "./drawer/FollowUpsTab";
import { TagsDialog } from "./TagsDialog";

describe("assign dialog", () => {
  it("requires a manager and a share in (0, 1] before it sends anything", async () => {
    const seen = mockFetch({
      "GET /api/assignment/managers": () => ({ items: [{ manager_id: "M-HK-2", name: "Cathy Ho", team_id: "T-HK", status: "active" }], next_cursor: null }),
      "POST /api/assignment/assignments/bulk": () => ({ manager_id: "M-HK-2", counts: { assigned: 2 }, results: [] }),
    });
    const onClose = vi.fn();
    renderWith(<AssignDialog customerIds={["C-1", "C-2"]} onClose={onClose} />, { role: "team_lead" });
    fireEvent.click(await screen.findByTestId("assign-submit"));
    expect(await screen.findByText("Required")).toBeInTheDocument();
    const share = screen.getByLabelText("Performance attribution (share, 0–1)");
    fireEvent.change(share, { target: { value: "1.5" } });
    fireEvent.click(screen.getByTestId("assign-submit"));
    expect(await screen.findByText("A share between 0 and 1")).toBeInTheDocument();
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(0);

    fireEvent.change(share, { target: { value: "0.5" } });
    fireEvent.mouseDown(screen.getByRole("combobox", { name: "Account manager" }));
    fireEvent.click(await screen.findByText("Cathy Ho (M-HK-2 · T-HK)"));
    fireEvent.click(screen.getByTestId("assign-submit"));
    await waitFor(() => expect(onClose).toHaveBeenCalledWith(true));
    const post = seen.find((r) => r.method === "POST")!;
    expect(post.url.pathname).toBe("/api/assignment/assignments/bulk");
    expect(post.body).toEqual({ customer_ids: ["C-1", "C-2"], manager_id: "M-HK-2", stage: null, share: 0.5 });
  });

  it("shows the API's problem when the assignment is refused", async () => {
    mockFetch({
      "GET /api/assignment/managers": () => ({ items: [{ manager_id: "M-X", name: "X", team_id: "T-SEA", status: "active" }], next_cursor: null }),
      "POST /api/assignment/assignments": () => new Response(JSON.stringify({ title: "Forbidden", status: 403, detail: "customer C-1 is outside your scope" }), { status: 403 }),
    });
    renderWith(<AssignDialog customerIds={["C-1"]} onClose={() => undefined} />, { role: "team_lead" });
    fireEvent.mouseDown(await screen.findByRole("combobox", { name: "Account manager" }));
    fireEvent.click(await screen.findByText("X (M-X · T-SEA)"));
    fireEvent.click(screen.getByTestId("assign-submit"));
    expect(await screen.findByText("customer C-1 is outside your scope")).toBeInTheDocument();
  });
});

describe("tags dialog", () => {
  it("rejects tags the API would refuse", async () => {
    const seen = mockFetch({});
    renderWith(<TagsDialog customerIds={["C-1"]} onClose={() => undefined} />, { role: "team_lead" });
    const input = screen.getAllByRole("combobox")[0];
    fireEvent.change(input, { target: { value: "bad/tag" } });
    fireEvent.keyDown(input, { key: "Enter", code: "Enter", keyCode: 13 });
    fireEvent.click(screen.getByRole("button", { name: "Submit" }));
    expect(await screen.findByText(/Letters, digits, spaces/)).toBeInTheDocument();
    expect(seen).toHaveLength(0);
  });
});

describe("follow-up form", () => {
  it("refuses an empty record", async () => {
    const submit = vi.fn();
    renderWith(<FollowUpForm onSubmit={submit} />, { role: "manager" });
    fireEvent.click(screen.getByTestId("followup-submit"));
    expect(await screen.findByText("Fill in at least one field")).toBeInTheDocument();
    expect(submit).not.toHaveBeenCalled();
  });

  it("sends what was filled in, trimmed, in the tasks service's shape", () => {
    const at = dayjs("2030-01-02T03:04:05Z");
    expect(toFollowUpBody({ intent: " interested ", tier: "", contact_methods: ["phone"], next_follow_up_at: at, tags: [" vip ", ""], remarks: "  called  " }, "t-1"))
      .toEqual({ intent: "interested", tier: null, contact_methods: ["phone"], next_follow_up_at: at.toISOString(), tags: ["vip"], remarks: "called", task_id: "t-1" });
  });
});
