import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import { DEFAULT_FILTERS } from "./filters";
import { SegmentsBar } from "./SegmentsBar";

const seg = (id: string, name: string, kind: string, count: number) => ({
  segment_id: id, name, kind, count, filter: kind === "dynamic" ? { risk_rating: ["aggressive"] } : null, owner_id: "u-admin",
  created_at: "2026-03-01T00:00:00Z", updated_at: "2026-03-01T00:00:00Z",
});

describe("saved segments on the Customer List", () => {
  it("lists the segments with their counts and filters the list by one", async () => {
    mockFetch({ "GET /api/customer/customers/segments": () => ({ items: [seg("s1", "Aggressive", "dynamic", 1234), seg("s2", "VIP", "static", 3)] }) });
    const onChange = vi.fn();
    renderWith(<SegmentsBar filters={DEFAULT_FILTERS} selected={[]} onChange={onChange} />);
    fireEvent.mouseDown(within(screen.getByTestId("segment-select")).getByRole("combobox"));
    const option = await screen.findByText("Aggressive · 1,234 (filter)");
    expect(screen.getByText("VIP · 3 (list)")).toBeInTheDocument();
    fireEvent.click(option);
    expect(onChange).toHaveBeenCalledWith({ ...DEFAULT_FILTERS, segment: "s1" });
  });

  it("saves the current filters as a dynamic segment", async () => {
    const seen = mockFetch({
      "GET /api/customer/customers/segments": () => ({ items: [] }),
      "POST /api/customer/customers/segments": () => seg("s9", "Balanced HK", "dynamic", 42),
    });
    const filters = { ...DEFAULT_FILTERS, risk_rating: ["balanced" as const], user_region: ["HK"] };
    renderWith(<SegmentsBar filters={filters} selected={[]} onChange={vi.fn()} />);
    fireEvent.click(screen.getByTestId("segment-save-filter"));
    fireEvent.change(await screen.findByTestId("segment-name"), { target: { value: "Balanced HK" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(seen.some((r) => r.method === "POST")).toBe(true));
    const post = seen.find((r) => r.method === "POST")!;
    expect(post.body).toEqual({ name: "Balanced HK", kind: "dynamic", filter: { risk_rating: ["balanced"], user_region: ["HK"] }, customer_ids: [] });
    expect(screen.getByTestId("segment-save-selected")).toBeDisabled();
  });
});
