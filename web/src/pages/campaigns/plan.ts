// The planning form's values -> the API's plan (PlanBody), and the rules the service checks too.
import dayjs from "dayjs";
import type { Plan } from "../../services/campaigns";

export interface PlanValues {
  name: string;
  purpose?: string;
  /** local date and time, as a datetime-local input gives it (YYYY-MM-DDTHH:mm) */
  start: string;
  end: string;
  stages?: string[];
  tags?: string[];
  /** a saved segment of the customer service: its members now, with the stages and tags */
  segment_id?: string;
  customer_ids?: string;
  distribution: Plan["distribution"];
  team_id?: string;
  channels: Plan["channels"];
  metrics: Plan["metrics"];
  attribution_window_days: number;
  /** hold-out control group: this percentage of the audience is not targeted (0-50) */
  control_pct?: number;
}

/** The end after the start (both given). */
export const endAfterStart = (start: string | undefined, end: string | undefined) =>
  !start || !end || dayjs(end).isAfter(dayjs(start));

export const needsTeam = (distribution: string | undefined) => !!distribution && distribution !== "assigned_manager";

/** Customer ids typed or pasted one per line (or separated by commas / spaces), without duplicates. */
export function parseIds(text: string | undefined): string[] {
  return [...new Set((text ?? "").split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean))];
}

export function planFrom(v: PlanValues): Plan {
  const ids = parseIds(v.customer_ids);
  return {
    name: v.name.trim(),
    purpose: v.purpose?.trim() || null,
    start_at: dayjs(v.start).toISOString(),
    end_at: dayjs(v.end).toISOString(),
    audience: ids.length ? { customer_ids: ids }
      : { stages: (v.stages ?? []) as never, tags: v.tags ?? [], ...(v.segment_id ? { segment_id: v.segment_id } : {}) },
    distribution: v.distribution,
    team_id: v.team_id?.trim() || null,
    channels: v.channels,
    metrics: v.metrics,
    attribution_window_days: v.attribution_window_days,
    control_pct: v.control_pct ?? 0,
  };
}
