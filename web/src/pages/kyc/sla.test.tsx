import { act, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { I18nProvider } from "../../i18n";
import type { QueueItem } from "../../services/kyc";
import { formatSeconds, SLA_SECONDS, slaStatus } from "./sla";
import { SlaTimer } from "./SlaTimer";

const item = (over: Partial<QueueItem>): QueueItem => ({
  case_id: "k1", customer_id: "C-1", application_id: "A-1", state: "pending", high_risk: false, submission: 1, documents_total: 3,
  documents_pending: 3, completion_pct: 0, reviewer_id: null, first_reviewer_id: null, queued_at: "2026-01-01T00:00:00Z", claimed_at: null,
  age_seconds: 0, time_in_queue_seconds: 0, time_in_review_seconds: 0, overdue: false, ...over,
});

describe("SLA of a KYC case", () => {
  it("counts the queue wait from the server's age plus the time since it was fetched", () => {
    const s = slaStatus(item({ age_seconds: 3600 }), 1_000_000, 1_000_000 + 60_000);
    expect(s).toMatchObject({ phase: "queue", elapsed: 3660, limit: SLA_SECONDS.queue, remaining: SLA_SECONDS.queue - 3660, overdue: false });
  });

  it("measures a case in review from its claim, against the review SLA", () => {
    const claimed = Date.parse("2026-01-01T00:00:00Z");
    const s = slaStatus(item({ state: "in_review", claimed_at: "2026-01-01T00:00:00Z" }), claimed, claimed + 9 * 3600_000);
    expect(s.phase).toBe("review");
    expect(s.overdue).toBe(true);
    expect(s.remaining).toBe(SLA_SECONDS.review - 9 * 3600);
  });

  it("trusts the server's overdue flag and closes with the case", () => {
    expect(slaStatus(item({ overdue: true, age_seconds: 10 }), 0, 0).overdue).toBe(true);
    expect(slaStatus(item({ state: "approved" }), 0, 0).phase).toBe("closed");
    expect(slaStatus(item({ state: "awaiting_second_review", time_in_review_seconds: 100 }), 0, 5000).elapsed).toBe(105);
  });

  it("formats durations with days and a sign", () => {
    expect(formatSeconds(3661)).toBe("01:01:01");
    expect(formatSeconds(90061)).toBe("1d 01:01:01");
    expect(formatSeconds(-59)).toBe("-00:00:59");
  });
});

describe("SlaTimer", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] }));
  afterEach(() => vi.useRealTimers());

  it("ticks every second and turns red once the SLA is breached", () => {
    const now = Date.parse("2026-03-01T12:00:00Z");
    vi.setSystemTime(now);
    render(<I18nProvider lang="en"><SlaTimer item={item({ age_seconds: SLA_SECONDS.queue - 2 })} fetchedAt={now} /></I18nProvider>);
    expect(screen.getByTestId("sla-timer")).toHaveTextContent("00:00:02 left");
    expect(screen.getByTestId("sla-timer")).not.toHaveAttribute("data-overdue");
    act(() => { vi.advanceTimersByTime(3000); });
    expect(screen.getByTestId("sla-timer")).toHaveTextContent("Overdue by 00:00:01");
    expect(screen.getByTestId("sla-timer")).toHaveAttribute("data-overdue", "true");
  });

  it("speaks Chinese", () => {
    const now = Date.now();
    render(<I18nProvider lang="zh"><SlaTimer item={item({ age_seconds: 0 })} fetchedAt={now} /></I18nProvider>);
    expect(screen.getByTestId("sla-timer")).toHaveTextContent("剩余 1d 00:00:00");
  });
});
