import { fireEvent, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import { SCREENS } from "../../app/routes";
import { currentLocation, mockFetch, renderWith, testQueryClient } from "../../test/render";
import CustomerListPage from "./CustomerListPage";

function row(id: string, manager = "M-HK-1") {
  return {
    customer_id: id, name: "A*****", phone_dialing_code: "+852", phone_number: "****1234", email: "a***@example.com",
    registered: true, registered_at: "2026-11-30T08:00:00+00:00", channel: "organic", campaign: null, referral_code: null,
    referrer_customer_id: null, language: "en", residence_country: "HK", user_region: "HK", active_region: "HK",
    stage: "funded", stage_changed_at: null, account_status: "opened", verification_status: "verified", deposits: {},
    withdrawals: {}, total_assets: "1000", assets_currency: "USD", tags: [], last_activity_at: null,
    managers: [{ manager_id: manager, team_id: "T-HK", stage: null, share: "1" }],
  };
}

let seen: ReturnType<typeof mockFetch>;
beforeEach(() => {
  seen = mockFetch({
    "GET /api/customer/customers": (url) => (url.searchParams.get("cursor") === "page-2"
      ? { items: [row("C-3")], next_cursor: null, limit: 2 }
      : { items: [row("C-1"), row("C-2")], next_cursor: "page-2", limit: 2 }),
    "GET /api/customer/customers/counts": () => ({ counts: { registered: 1, funded: 2 }, total: 3, source: "read_model" }),
  });
});

const lists = () => seen.filter((r) => r.url.pathname === "/api/customer/customers");

describe("Customer List", () => {
  it("reads its filters from the URL and sends them to the API with the bearer token and a request id", async () => {
    renderWith(<CustomerListPage />, { role: "team_lead", url: "/customers?stage=funded&q=ann&sort=assets&order=asc" });
    await screen.findByText("C-1");
    const q = lists()[0].url.searchParams;
    expect(q.getAll("stage")).toEqual(["funded"]);
    expect(q.get("q")).toBe("ann");
    expect(q.get("sort")).toBe("assets");
    expect(q.get("order")).toBe("asc");
    expect(lists()[0].headers.get("Authorization")).toMatch(/^Bearer /);
    expect(lists()[0].headers.get("X-Request-ID")).toBeTruthy();
  });

  it("writes filter changes to the URL (a stage card, the search box) and starts from the first page", async () => {
    renderWith(<CustomerListPage />, { role: "team_lead", url: "/customers?cursor=xyz" });
    await screen.findByText("C-1");
    fireEvent.click(screen.getByTestId("stage-card-funded"));
    await waitFor(() => expect(currentLocation.search).toBe("?stage=funded"));
    const search = screen.getByLabelText("Search");
    fireEvent.change(search, { target: { value: "C-2" } });
    fireEvent.keyDown(search, { key: "Enter", code: "Enter", keyCode: 13 });
    await waitFor(() => expect(new URLSearchParams(currentLocation.search).get("q")).toBe("C-2"));
    expect(new URLSearchParams(currentLocation.search).getAll("stage")).toEqual(["funded"]);
    await waitFor(() => expect(lists().at(-1)!.url.searchParams.get("q")).toBe("C-2"));
  });

  it("pages with the keyset cursor: Next sends next_cursor, Previous goes back", async () => {
    renderWith(<CustomerListPage />, { role: "team_lead", url: "/customers?stage=funded" });
    await screen.findByText("C-1");
    expect(screen.getByTestId("page-previous")).toBeDisabled();
    fireEvent.click(screen.getByTestId("page-next"));
    await screen.findByText("C-3");
    expect(new URLSearchParams(currentLocation.search).get("cursor")).toBe("page-2");
    expect(lists().at(-1)!.url.searchParams.get("cursor")).toBe("page-2");
    expect(lists().at(-1)!.url.searchParams.getAll("stage")).toEqual(["funded"]);
    expect(screen.getByTestId("page-number")).toHaveTextContent("Page 2");
    expect(screen.getByTestId("page-next")).toBeDisabled();
    fireEvent.click(screen.getByTestId("page-previous"));
    await screen.findByText("C-1");
    expect(new URLSearchParams(currentLocation.search).get("cursor")).toBeNull();
  });

  it("filters by asset and ADA bands (from GET /customers/bands), age and holdings; age only for those who read personal data", async () => {
    const bands = { currency: "HKD", items: [{ key: "0-100000", low: "0", high: "100000" }, { key: "100000-", low: "100000", high: null }] };
    seen = mockFetch({
      "GET /api/customer/customers": () => ({ items: [row("C-1")], next_cursor: null, limit: 2 }),
      "GET /api/customer/customers/counts": () => ({ counts: { funded: 1 }, total: 1, source: "read_model" }),
      "GET /api/customer/customers/bands": () => bands,
    });
    renderWith(<CustomerListPage />, { role: "admin", url: "/customers?ada_band=100000-&age_min=30&age_max=45&holds=0700.HK" });
    await screen.findByText("C-1");
    const q = lists()[0].url.searchParams;
    expect(q.getAll("ada_band")).toEqual(["100000-"]);
    expect(q.get("age_min")).toBe("30");
    expect(q.get("age_max")).toBe("45");
    expect(q.get("holds")).toBe("0700.HK");
    // the panel is open (filters are active): the band options are the brokerage's, labelled in its currency
    fireEvent.mouseDown(screen.getByTestId("filter-asset-band").querySelector("input")!);
    fireEvent.click(await screen.findByTitle("0 – 100,000 HKD"));
    await waitFor(() => expect(new URLSearchParams(currentLocation.search).getAll("asset_band")).toEqual(["0-100000"]));
    await waitFor(() => expect(lists().at(-1)!.url.searchParams.getAll("asset_band")).toEqual(["0-100000"]));
    const ageMin = screen.getByTestId("filter-age-min");
    fireEvent.change(ageMin, { target: { value: "3x" } }); // not an age: dropped, not sent
    fireEvent.blur(ageMin);
    await waitFor(() => expect(new URLSearchParams(currentLocation.search).get("age_min")).toBeNull());
    expect(new URLSearchParams(currentLocation.search).get("age_max")).toBe("45");
  });

  it("hides the age filter from a caller without CustomerPiiRead and leaves a linked age range out of the query", async () => {
    seen = mockFetch({
      "GET /api/customer/customers": () => ({ items: [row("C-1")], next_cursor: null, limit: 2 }),
      "GET /api/customer/customers/counts": () => ({ counts: { funded: 1 }, total: 1, source: "read_model" }),
      "GET /api/customer/customers/bands": () => ({ currency: "HKD", items: [] }),
    });
    renderWith(<CustomerListPage />, { role: "team_lead", url: "/customers?age_min=30&ada_band=0-100000" });
    await screen.findByText("C-1");
    const list = lists().at(-1)!.url.searchParams;
    expect(list.get("age_min")).toBeNull();
    expect(list.getAll("ada_band")).toEqual(["0-100000"]);
    expect(screen.getByTestId("filter-ada-band")).toBeInTheDocument();
    expect(screen.queryByTestId("filter-age-min")).toBeNull();
  });

  it("shows the total in scope with thousands separators", async () => {
    mockFetch({
      "GET /api/customer/customers": () => ({ items: [row("C-1")], next_cursor: null, limit: 2 }),
      "GET /api/customer/customers/counts": () => ({ counts: { funded: 1234567 }, total: 1234567, source: "read_model" }),
    });
    renderWith(<CustomerListPage />, { role: "team_lead", url: "/customers" });
    expect(await screen.findByTestId("customers-total")).toHaveTextContent("1,234,567 customers in scope");
  });

  it("shows the problem+json of a failed request plainly", async () => {
    mockFetch({
      "GET /api/customer/customers": () => new Response(JSON.stringify({
        type: "urn:whale-crm:problem:validation", title: "Unprocessable Entity", status: 422,
        detail: "query.deposit_currency: required with a deposit range",
        errors: [{ field: "query.deposit_currency", message: "required with a deposit range" }],
      }), { status: 422, headers: { "Content-Type": "application/problem+json" } }),
      "GET /api/customer/customers/counts": () => ({ counts: {}, total: 0 }),
    });
    renderWith(<CustomerListPage />, { role: "team_lead", url: "/customers?deposit_min=5" });
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("422 Unprocessable Entity");
    expect(alert).toHaveTextContent("query.deposit_currency: required with a deposit range");
  });

  it("offers the write actions a team lead has, and none to an auditor", async () => {
    const { unmount } = renderWith(<CustomerListPage />, { role: "team_lead", url: "/customers" });
    await screen.findByText("C-1");
    expect(screen.getByTestId("action-assign")).toBeDisabled();
    fireEvent.click(screen.getByRole("checkbox", { name: "C-1" }));
    await waitFor(() => expect(screen.getByTestId("action-assign")).toBeEnabled());
    expect(screen.getByTestId("action-export")).toBeInTheDocument();
    expect(screen.getByTestId("action-remarks")).toBeInTheDocument();
    unmount();
    renderWith(<CustomerListPage />, { role: "auditor", url: "/customers" });
    await screen.findByText("C-1");
    for (const id of ["action-assign", "action-remarks", "action-tags", "action-export"]) expect(screen.queryByTestId(id)).toBeNull();
    expect(screen.queryByRole("checkbox")).toBeNull();
  });

  it("starts its requests from the route's prefetch (the URL's filters and cursor), and the page uses them", async () => {
    const qc = testQueryClient();
    qc.setDefaultOptions({ queries: { retry: false, staleTime: 60_000 } });
    const url = "/customers?stage=funded&sort=assets&cursor=page-2";
    SCREENS.find((s) => s.path === "/customers")!.prefetch!(qc, new URL(url, "http://x").searchParams);
    await waitFor(() => expect(lists()).toHaveLength(1));
    const q = lists()[0].url.searchParams;
    expect(q.getAll("stage")).toEqual(["funded"]);
    expect(q.get("sort")).toBe("assets");
    expect(q.get("cursor")).toBe("page-2");
    expect(seen.filter((r) => r.url.pathname.endsWith("/counts"))).toHaveLength(1);
    renderWith(<CustomerListPage />, { role: "team_lead", url, client: qc });
    await screen.findByText("C-3");
    expect(lists()).toHaveLength(1); // the page's query found the prefetched answer
    expect(seen.filter((r) => r.url.pathname.endsWith("/counts"))).toHaveLength(1);
  });

  it("asks for the next page as soon as a page is on screen, and Next shows it from the cache", async () => {
    const qc = testQueryClient();
    qc.setDefaultOptions({ queries: { retry: false, staleTime: 15_000 } }); // the console's freshness
    renderWith(<CustomerListPage />, { role: "team_lead", url: "/customers?stage=funded", client: qc });
    await screen.findByText("C-1");
    await waitFor(() => expect(lists().map((r) => r.url.searchParams.get("cursor"))).toEqual([null, "page-2"]));
    expect(lists()[1].url.searchParams.getAll("stage")).toEqual(["funded"]);
    fireEvent.click(screen.getByTestId("page-next"));
    await screen.findByText("C-3");
    expect(lists()).toHaveLength(2); // no third request: the last page has no next cursor either
  });
});
