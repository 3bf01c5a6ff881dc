// Where a customer would be routed: the first enabled rule, in order, whose conditions all hold (the same
// matching as services/assignment/domain/rules.py Rule.matches). The API assigns; this only previews.
import type { RuleRow } from "../../services/assignment";

export interface CustomerFacts { region?: string | null; channel?: string | null; language?: string | null; referral_code?: string | null; institution_id?: string | null; segments?: string[] }

const lower = (xs: string[]) => xs.map((x) => x.toLowerCase());

export function languageMatches(wanted: string[], language: string | null | undefined): boolean {
  if (!wanted.length) return true;
  if (!language) return false;
  const lang = language.toLowerCase();
  return lower(wanted).some((w) => lang === w || lang.startsWith(`${w}-`));
}

export function ruleMatches(rule: RuleRow, f: CustomerFacts): boolean {
  const d = rule.definition;
  if (!rule.enabled || !d.enabled) return false;
  if (d.regions.length && !lower(d.regions).includes((f.region ?? "").toLowerCase())) return false;
  if (d.channels.length && !lower(d.channels).includes((f.channel ?? "").toLowerCase())) return false;
  if (d.referral_codes.length && !lower(d.referral_codes).includes((f.referral_code ?? "").trim().toLowerCase())) return false;
  if (d.institutions?.length && !lower(d.institutions).includes((f.institution_id ?? "").toLowerCase())) return false;
  if (d.segments?.length && !d.segments.some((s) => (f.segments ?? []).includes(s))) return false;
  return languageMatches(d.languages, f.language);
}

/** The rules in the order the router tries them (position, then id). */
export function ordered(rules: RuleRow[]): RuleRow[] {
  return [...rules].sort((a, b) => a.position - b.position || a.rule_id.localeCompare(b.rule_id));
}

export function routeFor(rules: RuleRow[], f: CustomerFacts): RuleRow | null {
  return ordered(rules).find((r) => ruleMatches(r, f)) ?? null;
}
