import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { importPercent, type ImportJob } from "../../services/imports";
import { mockFetch, renderWith } from "../../test/render";
import ImportsPage from "./ImportsPage";

const job = (over: Partial<ImportJob> = {}): ImportJob => ({
  job_id: "imp_" + "a".repeat(32), filename: "people.csv", file_format: "csv", size: 1000, created_by: "admin-1",
  created_at: "2026-12-03T09:00:00Z", state: "done", rows_read: 20, rows_estimate: 20, accepted: 19, rejected: 1,
  updated_at: "2026-12-03T09:00:05Z", finished_at: "2026-12-03T09:00:05Z", error: null, ...over,
});

describe("an import's progress", () => {
  it("is the rows read of the file's estimated rows, 100 only once the job is done", () => {
    expect(importPercent({ state: "queued", rows_read: 0, rows_estimate: 200 })).toBe(0);
    expect(importPercent({ state: "running", rows_read: 50, rows_estimate: 200 })).toBe(25);
    expect(importPercent({ state: "running", rows_read: 200, rows_estimate: 200 })).toBe(99);
    expect(importPercent({ state: "running", rows_read: 50, rows_estimate: null })).toBe(0); // XLSX: no estimate
    expect(importPercent({ state: "done", rows_read: 200, rows_estimate: null })).toBe(100);
  });
});

describe("the Import screen", () => {
  it("lists past imports with their state and counts, and offers the rejected rows of one that has some", async () => {
    mockFetch({
      "GET /api/customer/customer-imports": () => ({ items: [job(), job({ job_id: "imp_" + "b".repeat(32), filename: "clean.csv", rejected: 0, accepted: 20 })], next_cursor: null }),
    });
    renderWith(<ImportsPage />, { role: "admin" });
    const table = await screen.findByTestId("imports-table");
    await waitFor(() => expect(within(table).getByText("people.csv")).toBeInTheDocument());
    expect(within(table).getAllByText("Done")).toHaveLength(2);
    expect(within(table).getAllByRole("button", { name: /Rejected rows/ })).toHaveLength(1); // only the file with rejections
    expect(screen.getByTestId("import-choose")).toHaveTextContent("Upload a file");
  });

  it("speaks Chinese", async () => {
    mockFetch({ "GET /api/customer/customer-imports": () => ({ items: [job()], next_cursor: null }) });
    renderWith(<ImportsPage />, { role: "admin", lang: "zh" });
    expect(await screen.findByText("导入客户与线索")).toBeInTheDocument();
    await waitFor(() => expect(screen.getByText("已完成")).toBeInTheDocument());
  });
});
