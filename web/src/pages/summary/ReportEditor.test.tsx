import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import type { DailyReport } from "../../services/summary";
import { ReportForm, ReportSection, toReportBody } from "./ReportEditor";

const report: DailyReport = {
  report_id: "r1", manager_id: "u-manager", team_id: null, date: "2026-03-01", summary: "Called 12 customers", next_plan: null, issues: null,
  version: 2, created_at: "2026-03-01T09:00:00Z", updated_at: "2026-03-01T10:00:00Z", updated_by: "u-manager",
};

describe("my daily report", () => {
  it("requires what was done and sends nothing while it is blank", async () => {
    const onSubmit = vi.fn();
    renderWith(<ReportForm current={null} onSubmit={onSubmit} />, { role: "manager" });
    fireEvent.change(screen.getByTestId("report-summary"), { target: { value: "   " } });
    fireEvent.click(screen.getByTestId("report-save"));
    expect(await screen.findByText("Write what you did")).toBeInTheDocument();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("edits the version it read (optimistic concurrency) and writes a new report as version 0", () => {
    expect(toReportBody({ summary: " done ", next_plan: " ", issues: "help" }, report)).toEqual({ summary: "done", next_plan: null, issues: "help", expected_version: 2 });
    expect(toReportBody({ summary: "x" }, null).expected_version).toBe(0);
  });

  it("loads, saves and shows the API's conflict plainly", async () => {
    const day = new Date().toISOString().slice(0, 10);
    const seen = mockFetch({
      [`GET /api/summary/summary/reports/${day}`]: () => ({ ...report, date: day }),
      [`GET /api/summary/summary/reports/${day}/history`]: () => ({ versions: [{ version: 1, action: "written", at: "2026-03-01T09:00:00Z", by: "u-manager", summary: "v1", next_plan: null, issues: null }] }),
      [`PUT /api/summary/summary/reports/${day}`]: () => new Response(JSON.stringify({ title: "Conflict", status: 409, detail: "report was changed: version 3" }), { status: 409, headers: { "Content-Type": "application/problem+json" } }),
    });
    renderWith(<ReportSection day={day} today={day} />, { role: "manager" });
    await waitFor(() => expect(screen.getByTestId("report-summary")).toHaveValue("Called 12 customers"));
    expect(await screen.findByText("Version 1")).toBeInTheDocument();
    fireEvent.click(screen.getByTestId("report-save"));
    expect(await screen.findByText("report was changed: version 3")).toBeInTheDocument();
    expect(seen.find((r) => r.method === "PUT")!.body).toMatchObject({ summary: "Called 12 customers", expected_version: 2 });
  });

  it("is read-only for a role without ReportWrite", async () => {
    const day = new Date().toISOString().slice(0, 10);
    mockFetch({ [`GET /api/summary/summary/reports/${day}`]: () => new Response(JSON.stringify({ title: "Not Found", status: 404 }), { status: 404 }) });
    renderWith(<ReportSection day={day} today={day} />, { role: "auditor" });
    expect(await screen.findByText("No report was written for this day")).toBeInTheDocument();
    expect(screen.queryByTestId("report-save")).toBeNull();
  });

  it("is editable for the brokerage's today and the 7 days before, whatever the browser's clock says", async () => {
    mockFetch({ "GET /api/summary/summary/reports/2031-01-02": () => new Response(JSON.stringify({ title: "Not Found", status: 404 }), { status: 404 }),
      "GET /api/summary/summary/reports/2030-12-25": () => new Response(JSON.stringify({ title: "Not Found", status: 404 }), { status: 404 }) });
    const { unmount } = renderWith(<ReportSection day="2031-01-02" today="2031-01-02" />, { role: "manager" });
    expect(await screen.findByTestId("report-save")).toBeInTheDocument();
    unmount();
    renderWith(<ReportSection day="2030-12-25" today="2031-01-02" />, { role: "manager" }); // 8 days back
    expect(await screen.findByText("No report was written for this day")).toBeInTheDocument();
    expect(screen.queryByTestId("report-save")).toBeNull();
  });
});
