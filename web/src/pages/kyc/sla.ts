// SLA of a KYC case (the kyc service's SlaRules defaults): how long a case may wait in the queue, stay in
// review, and wait for the second reviewer. The timer ticks from the server's figures at fetch time.
import type { QueueItem } from "../../services/kyc";

export const SLA_SECONDS = { queue: 24 * 3600, review: 8 * 3600, second: 24 * 3600 } as const;

export interface SlaStatus {
  phase: "queue" | "review" | "second" | "closed";
  elapsed: number;
  limit: number;
  /** seconds left before the SLA is breached (negative: overdue by that much) */
  remaining: number;
  overdue: boolean;
}

/** The SLA of a queue item `nowMs - fetchedAtMs` after the server measured it. */
export function slaStatus(item: Pick<QueueItem, "state" | "age_seconds" | "claimed_at" | "time_in_review_seconds" | "overdue">,
  fetchedAtMs: number, nowMs: number): SlaStatus {
  const since = Math.max(0, Math.floor((nowMs - fetchedAtMs) / 1000));
  let phase: SlaStatus["phase"];
  let elapsed: number;
  let limit: number;
  if (item.state === "pending" || item.state === "resubmitted") {
    phase = "queue"; elapsed = item.age_seconds + since; limit = SLA_SECONDS.queue;
  } else if (item.state === "in_review") {
    phase = "review"; limit = SLA_SECONDS.review;
    elapsed = item.claimed_at ? Math.max(0, Math.floor((nowMs - Date.parse(item.claimed_at)) / 1000)) : item.time_in_review_seconds + since;
  } else if (item.state === "awaiting_second_review") {
    phase = "second"; elapsed = item.time_in_review_seconds + since; limit = SLA_SECONDS.second;
  } else {
    return { phase: "closed", elapsed: 0, limit: 0, remaining: 0, overdue: false };
  }
  const remaining = limit - elapsed;
  return { phase, elapsed, limit, remaining, overdue: item.overdue || remaining < 0 };
}

/** 1d 02:03:04 / 02:03:04 */
export function formatSeconds(total: number): string {
  const s = Math.abs(Math.floor(total));
  const d = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, "0")).join(":");
  return `${total < 0 ? "-" : ""}${d ? `${d}d ` : ""}${hms}`;
}
