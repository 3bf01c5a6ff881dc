import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import type { CaseDetail } from "../../services/kyc";
import { CaseReview } from "./CaseReview";

const CASE = "11111111-2222-3333-4444-555555555555";
const base: CaseDetail = {
  case_id: CASE, customer_id: "C-9", application_id: "A-1", application_ids: ["A-1"], account_type: "cash", state: "pending",
  high_risk: false, four_eyes_required: false, submission: 1, reviewer_id: null, first_reviewer_id: null,
  submitted_at: "2026-03-01T08:00:00Z", queued_at: "2026-03-01T08:00:00Z", claimed_at: null, completion_pct: 50, documents: [],
  flagged_fields: [], identity_verified: true, last_decision: null, version: 3, missing_documents: [],
};
const claimed: CaseDetail = { ...base, state: "in_review", reviewer_id: "u-kyc_reviewer", claimed_at: "2026-03-01T09:00:00Z", version: 4 };

describe("the KYC case after a decision", () => {
  it("shows the command's answer at once, says it is updating, and never goes back while the server still reads the old case", async () => {
    let reads = 0;
    const seen = mockFetch({
      // the server's reads lag: the old case twice more after the claim, then the claimed one
      [`GET /api/kyc/kyc/cases/${CASE}`]: () => (++reads <= 3 ? base : claimed),
      [`GET /api/kyc/kyc/cases/${CASE}/history`]: () => ({ case_id: CASE, items: [] }),
      "GET /api/kyc/kyc/reasons": () => ({ items: [] }),
      [`POST /api/kyc/kyc/cases/${CASE}/claim`]: () => claimed,
    });
    renderWith(<CaseReview caseId={CASE} onClose={() => undefined} />, { role: "kyc_reviewer" });
    const state = await screen.findByTestId("kyc-case-state");
    expect(state).toHaveTextContent("Pending");
    await userEvent.click(screen.getByTestId("kyc-case-claim"));
    await waitFor(() => expect(screen.getByTestId("kyc-case-state")).toHaveTextContent("In review"));
    expect(screen.getByTestId("kyc-case-updating")).toHaveTextContent("Updating…");
    // polled until the server's own read has the claim; the old state never came back in between
    await waitFor(() => expect(screen.queryByTestId("kyc-case-updating")).toBeNull(), { timeout: 8000 });
    expect(reads).toBeGreaterThanOrEqual(4);
    expect(screen.getByTestId("kyc-case-state")).toHaveTextContent("In review");
    expect(within(screen.getByRole("status")).queryByText("Updating…")).toBeNull();
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(1);
  });
});
