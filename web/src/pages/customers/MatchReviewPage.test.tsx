import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import type { MatchItem } from "../../services/matches";
import MatchReviewPage from "./MatchReviewPage";

const side = (id: string, masked: boolean) => ({
  customer_id: id, name: masked ? "C******" : "Chan Tai Man", phone_dialing_code: "+852",
  phone_number: masked ? "****5678" : "91235678", email: masked ? "c***@example.com" : "chan@example.com",
  date_of_birth: masked ? "****-**-**" : "1988-04-05", registered_at: "2026-03-01T08:00:00Z", channel: "organic",
  stage: "registered", residence_country: "HK", verification_status: "verified", account_status: "none", merged_into: null,
});
const pair = (masked: boolean): MatchItem => ({
  customer_id: "NEW-1", candidate_id: "OLD-1", reason: "probable:name_dob", status: "pending",
  suggested_at: "2026-03-01T08:00:00Z", decided_at: "2026-03-01T08:00:00Z", decided_by: null, comment: null,
  customer: side("NEW-1", masked), candidate: side("OLD-1", masked),
});

describe("the match review queue", () => {
  it("shows a suspected pair side by side and merges it with a comment (CustomerMerge)", async () => {
    let merged = false;
    const seen = mockFetch({
      "GET /api/customer/customer-matches": () => ({ items: merged ? [] : [pair(false)], next_cursor: null, limit: 50 }),
      "POST /api/customer/customer-matches/NEW-1/OLD-1/merge": () => {
        merged = true;
        return { survivor_id: "OLD-1", merged_id: "NEW-1", reason: "review:name_dob" };
      },
    });
    renderWith(<MatchReviewPage />, { role: "admin" });
    const card = await screen.findByTestId("match-card");
    expect(within(card).getByText("Same name and date of birth")).toBeInTheDocument();
    expect(within(card).getAllByText("1988-04-05")).toHaveLength(2);
    await userEvent.click(within(card).getByTestId("match-merge"));
    await userEvent.type(await screen.findByLabelText("Comment"), "same passport photo");
    await userEvent.click(screen.getByTestId("match-confirm"));
    await waitFor(() => expect(screen.queryByTestId("match-card")).toBeNull());
    const post = seen.find((r) => r.method === "POST");
    expect(post?.body).toEqual({ comment: "same passport photo" });
    expect(await screen.findByText("No suspected duplicates")).toBeInTheDocument();
  });

  it("shows masked fields and no merge or reject buttons without CustomerMerge, in Chinese too", async () => {
    mockFetch({ "GET /api/customer/customer-matches": () => ({ items: [pair(true)], next_cursor: null, limit: 50 }) });
    renderWith(<MatchReviewPage />, { role: "manager", lang: "zh" });
    const card = await screen.findByTestId("match-card");
    expect(within(card).getAllByText("****-**-**")).toHaveLength(2);
    expect(within(card).queryByTestId("match-merge")).toBeNull();
    expect(within(card).queryByTestId("match-reject")).toBeNull();
    expect(screen.getByText("合并需要 CustomerMerge 权限")).toBeInTheDocument();
    expect(within(card).getByText("姓名与出生日期相同")).toBeInTheDocument();
  });
});
