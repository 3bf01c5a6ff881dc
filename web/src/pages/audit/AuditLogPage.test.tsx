import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { exportPath } from "../../services/audit";
import { mockFetch, renderWith } from "../../test/render";
import AuditLogPage from "./AuditLogPage";

const record = (seq: number, action: string, customer: string | null, outcome = "allowed", status = 201, answered = true) => ({
  seq, record_id: `r-${seq}`, staff_id: "M-HK-1", roles: ["manager"], action, kind: outcome === "denied" ? "refusal" : "write",
  service: "customer", method: "POST", route: "/customers/{customer_id}/remarks", customer_id: customer,
  at: "2026-12-03T08:00:00Z", client_ip: "203.0.113.7", correlation_id: `req-${seq}`, status, outcome, answered, hash: "ab".repeat(32),
});

describe("Audit log", () => {
  it("lists records, filters by customer, pages on, verifies the chain", async () => {
    const seen = mockFetch({
      "GET /api/audit/audit/records": (url) => url.searchParams.get("cursor")
        ? { items: [record(1, "customer.remarks.create", "C-1")], next_cursor: null }
        : url.searchParams.get("customer_id") === "C-2"
          ? { items: [record(3, "customer.export.read", "C-2", "denied", 403)], next_cursor: null }
          : { items: [record(2, "customer.remarks.create", "C-1")], next_cursor: "next.cursor" },
      "GET /api/audit/audit/verify": () => ({ ok: true, checked: 3, anchor_seq: 0, head_seq: 3, first_broken_seq: null, reason: null, anchors_checked: 2 }),
    });
    renderWith(<AuditLogPage />, { role: "auditor" });
    expect(await screen.findByText("customer.remarks.create")).toBeInTheDocument();
    expect(screen.getByText("Allowed 201")).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Next page" }));
    await waitFor(() => expect(seen.some((r) => r.url.searchParams.get("cursor") === "next.cursor")).toBe(true));
    const customer = screen.getByRole("searchbox", { name: "Customer id" });
    fireEvent.change(customer, { target: { value: " C-2 " } });
    fireEvent.keyDown(customer, { key: "Enter", code: "Enter", keyCode: 13 });
    expect(await screen.findByText("Denied 403")).toBeInTheDocument();
    const last = seen.filter((r) => r.url.pathname.endsWith("/records")).at(-1);
    expect(last?.url.searchParams.get("customer_id")).toBe("C-2");
    expect(last?.url.searchParams.has("cursor")).toBe(false); // a new filter starts from the first page
    fireEvent.click(screen.getByTestId("audit-verify"));
    expect(await screen.findByTestId("audit-verdict")).toHaveTextContent("Chain verified: 3 records from anchor 0");
    expect(screen.getByTestId("audit-verify-detail")).toHaveTextContent("It matches the 2 anchors of its head published outside the audit database.");
  });

  it("shows a broken chain with its sequence number, in Chinese too", async () => {
    mockFetch({
      "GET /api/audit/audit/records": () => ({ items: [], next_cursor: null }),
      "GET /api/audit/audit/verify": () => ({ ok: false, checked: 4, anchor_seq: 0, head_seq: 5, first_broken_seq: 5,
        reason: "the hash of sequence 5 differs from the anchor published at 2026-12-03T09:00:00+00:00", anchors_checked: 1 }),
    });
    renderWith(<AuditLogPage />, { role: "auditor", lang: "zh" });
    expect(await screen.findByText("暂无审计记录")).toBeInTheDocument();
    fireEvent.click(screen.getByTestId("audit-verify"));
    expect(await screen.findByTestId("audit-verdict")).toHaveTextContent("哈希链在序号 5 处断开");
    expect(screen.getByTestId("audit-verify-detail")).toHaveTextContent("differs from the anchor published at"); // the server's reason
  });

  it("says when no anchor was published yet, or when the anchors could not be read", async () => {
    let anchors: number | null = 0;
    mockFetch({
      "GET /api/audit/audit/records": () => ({ items: [], next_cursor: null }),
      "GET /api/audit/audit/verify": () => ({ ok: true, checked: 1, anchor_seq: 0, head_seq: 1, first_broken_seq: null, reason: null, anchors_checked: anchors }),
    });
    renderWith(<AuditLogPage />, { role: "auditor" });
    fireEvent.click(await screen.findByTestId("audit-verify"));
    expect(await screen.findByTestId("audit-verify-detail")).toHaveTextContent("No anchor of its head published yet");
    anchors = null;
    fireEvent.click(screen.getByTestId("audit-verify"));
    await waitFor(() => expect(screen.getByTestId("audit-verify-detail")).toHaveTextContent("could not be read"));
  });

  it("marks a write whose process ended before it answered", async () => {
    mockFetch({
      "GET /api/audit/audit/records": () => ({ items: [record(4, "customer.remarks.create", "C-4", "allowed", 200, false),
        record(5, "customer.remarks.create", "C-5")], next_cursor: null }),
    });
    renderWith(<AuditLogPage />, { role: "auditor" });
    expect(await screen.findByText("Allowed 200")).toBeInTheDocument();
    expect(screen.getAllByTestId("audit-unanswered")).toHaveLength(1); // only the record written ahead
    expect(screen.getByTestId("audit-unanswered")).toHaveTextContent("no answer");
  });

  it("exports the filtered records", () => {
    expect(exportPath({ staff_id: "M-1", customer_id: null, outcome: "denied" })).toBe("/audit/records/export?staff_id=M-1&outcome=denied");
    expect(exportPath({})).toBe("/audit/records/export");
  });
});
