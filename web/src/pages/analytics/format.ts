import type { Translate } from "../../i18n";

/** 0.4567 → "45.7%"; null (nothing to divide) → "—". */
export function formatRate(rate: number | null | undefined): string {
  return rate == null ? "—" : `${(rate * 100).toFixed(1)}%`;
}

/** Seconds → the two largest units ("2d 3h", "4h 5m", "6m"); null → "—". */
export function formatDuration(seconds: number | null | undefined, t: Translate): string {
  if (seconds == null) return "—";
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d) return t("analytics.dh", { d, h });
  if (h) return t("analytics.hm", { h, m });
  return t("analytics.m", { m });
}
