// Load against capacity (services/assignment/domain/capacity.py): how the bars read a utilisation.

/** The bar's fill, 0–100 (a load above the capacity fills it). */
export function barPercent(utilisation: number | null | undefined): number {
  if (utilisation === null || utilisation === undefined) return 100; // a capacity of 0 takes nothing: full
  return Math.min(100, Math.max(0, Math.round(utilisation * 100)));
}

/** Full (or over, or no capacity at all) reads as an exception; the rest as normal (`barColor`: nearly full). */
export function barStatus(utilisation: number | null | undefined): "exception" | "normal" {
  return utilisation === null || utilisation === undefined || utilisation >= 1 ? "exception" : "normal";
}

/** Nearly full (≥ 90 %) in a warning colour. */
export function barColor(utilisation: number | null | undefined): string | undefined {
  if (utilisation === null || utilisation === undefined || utilisation >= 1) return undefined; // the exception red
  return utilisation >= 0.9 ? "#d46b08" : undefined;
}

/** The utilisation as a whole percentage for a label ("—" without a capacity). */
export function percentLabel(utilisation: number | null | undefined): string {
  return utilisation === null || utilisation === undefined ? "—" : `${Math.round(utilisation * 100)}%`;
}
