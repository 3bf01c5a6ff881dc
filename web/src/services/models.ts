// Shapes of the JSON bodies the services answer where their OpenAPI documents only say "object" (the
// request side, parameters and enums come from the generated clients in ../api/*.d.ts).
import type { components as CustomerC } from "../api/customer";

export type Stage = CustomerC["schemas"]["Stage"];
export type Channel = CustomerC["schemas"]["Channel"];
export type AccountStatus = CustomerC["schemas"]["AccountStatus"];
export type VerificationStatus = CustomerC["schemas"]["VerificationStatus"];
export const STAGES: Stage[] = ["registered", "pending_account_opening", "pending_funding", "funded", "traded"];
export const CHANNELS: Channel[] = ["organic", "referral", "manager_qr", "external_channel", "manual_import", "institution", "campaign"];
export const ACCOUNT_STATUSES: AccountStatus[] = ["none", "applied", "opened", "rejected", "closed"];
export const VERIFICATION_STATUSES: VerificationStatus[] = ["unverified", "verified", "pending_review", "failed"];
export type RiskRating = CustomerC["schemas"]["RiskRating"];
/** lowest to highest risk tolerance (suitability assessment) */
export const RISK_RATINGS: RiskRating[] = ["conservative", "moderately_conservative", "balanced", "moderately_aggressive", "aggressive"];

export interface ManagerSlot {
  manager_id: string;
  team_id: string | null;
  stage: Stage | null;
  share: string | null;
}

export interface CustomerItem {
  customer_id: string;
  name: string | null;
  phone_dialing_code: string | null;
  phone_number: string | null;
  email: string | null;
  registered: boolean;
  registered_at: string | null;
  channel: Channel | null;
  campaign: string | null;
  referral_code: string | null;
  referrer_customer_id: string | null;
  language: string | null;
  residence_country: string | null;
  user_region: string | null;
  active_region: string | null;
  stage: Stage | null;
  stage_changed_at: string | null;
  account_status: AccountStatus | null;
  verification_status: VerificationStatus | null;
  deposits: Record<string, string> | null;
  withdrawals: Record<string, string> | null;
  total_assets: string | null;
  assets_currency: string | null;
  /** Average daily assets (null without an asset snapshot). */
  ada?: AdaBlock | null;
  tags: string[] | null;
  last_activity_at: string | null;
  managers: ManagerSlot[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface StageCounts {
  counts: Record<string, number>;
  total: number;
}

export interface Move {
  transaction_id: string;
  amount: string;
  currency: string;
  at: string;
  account_id: string | null;
  method: string | null;
}

export interface AdaWindow {
  days: number;
  ada: string | null;
  previous: string | null;
  change: string | null;
  change_pct: string | null;
}

export interface AdaBlock {
  currency: string | null;
  as_of: string;
  windows: AdaWindow[];
}

export interface CustomerDetail {
  customer_id: string;
  as_of: string | null;
  /** the latest suitability assessment (null without one; may be absent from older answers) */
  risk?: { rating: RiskRating; score: number | null; assessment_id: string; assessed_at: string; valid_until: string | null } | null;
  basic: {
    name: string | null;
    phone_dialing_code: string | null;
    phone_number: string | null;
    email: string | null;
    registered_at: string | null;
    channel: string | null;
    campaign: string | null;
    referral_code: string | null;
    language: string | null;
    residence_country: string | null;
    registration_ip_country: string | null;
    user_region: string | null;
    active_region: string | null;
    tags: string[];
    verification_status: string | null;
    verification_history: { status: string; at: string; by: string | null; reason: string | null; source: string | null }[];
  };
  identity: {
    verified_at: string | null;
    id_type: string | null;
    id_issuing_country: string | null;
    id_number: string | null;
    legal_name: string | null;
    date_of_birth: string | null;
  };
  account_opening: {
    status: string | null;
    applications: { application_id: string; submitted_at: string | null; account_type: string | null; documents: number; rejected_at: string | null; reason: string | null }[];
    accounts: { account_id: string; account_type: string | null; opened_at: string | null; closed_at: string | null; application_id: string | null }[];
  };
  referral: { referrer_customer_id: string | null; referral_code: string | null; linked_at: string | null; referees: string[] };
  assets: {
    total_assets: string | null;
    currency: string | null;
    as_of: string | null;
    deposits_total: Record<string, string> | null;
    withdrawals_total: Record<string, string> | null;
    accounts: { account_id: string; currency: string; total_assets: string; cash: string; as_of: string }[];
    /** Average daily assets (30/90/365 days) ending on the series' last day; null without a snapshot or in the past. */
    ada?: AdaBlock | null;
    positions: { account_id: string; symbol?: string; quantity?: string; market_value?: string; currency?: string; [k: string]: unknown }[];
  };
  funding: { recent_deposits: Move[]; recent_withdrawals: Move[]; first_deposit_at: string | null };
  trading: { trades_count: number; first_trade_at: string | null; recent_trades: Record<string, unknown>[] };
  lifecycle: { stage: Stage; stage_changed_at: string | null; timeline: { stage: Stage; entered_at: string }[] };
  managers?: ManagerSlot[];
  recent_remarks?: TextEntry[];
  last_activity_at: string | null;
}

export interface TextEntry {
  remark_id?: string;
  note_id?: string;
  customer_id: string;
  text: string;
  author: string;
  created_at: string;
}

export interface AssignmentSlot {
  customer_id: string;
  manager_id: string;
  team_id: string | null;
  stage: Stage | null;
  share: string | null;
  reason: string | null;
  rule_id: string | null;
  rule_version: number | null;
  inputs: Record<string, unknown> | null;
  assigned_at: string | null;
  assigned_by: string | null;
  last_follow_up_at: string | null;
  protection_expires_at: string | null;
  rule?: { definition: Record<string, unknown>; changed_at: string };
}

export interface AssignmentHistoryItem {
  version: number;
  at: string;
  action: "assigned" | "unassigned" | "followed_up" | "left_in_pool" | string;
  manager_id: string | null;
  previous_manager_id: string | null;
  team_id: string | null;
  stage: Stage | null;
  share: string | null;
  reason: string | null;
  rule_id: string | null;
  rule_version: number | null;
  inputs: Record<string, unknown> | null;
  actor: string | null;
}

export interface Manager {
  manager_id: string;
  name: string;
  team_id: string | null;
  status: string;
  [k: string]: unknown;
}

export interface BulkResult {
  manager_id: string;
  counts: Record<string, number>;
  results: { customer_id: string; status: string; code?: string | null; message?: string | null }[];
}

export interface FollowUp {
  follow_up_id?: string;
  customer_id: string;
  kind?: string;
  intent?: string | null;
  tier?: string | null;
  contact_methods?: string[];
  next_follow_up_at?: string | null;
  tags?: string[];
  remarks?: string | null;
  manager_id?: string;
  task_id?: string | null;
  recorded_at?: string;
}

export interface NodeCounts {
  customers_per_stage: Record<string, number>;
  kyc_cases_per_state: Record<string, number>;
  open_tasks_per_node: Record<string, number>;
}

export interface AccountOpening {
  from: string;
  to: string;
  timezone: string;
  opened: number;
  rejected: number;
  decided: number;
  success_rate: number | null;
  avg_seconds_submitted_to_opened: number | null;
  samples_submitted_to_opened: number;
  avg_seconds_registered_to_opened: number | null;
  samples_registered_to_opened: number;
}

export interface Shortcuts {
  date: string;
  follow_ups_overdue: number;
  follow_ups_due_today: number;
  open_tasks: number;
  kyc_cases_open: number;
  registered_today: number;
  opened_today: number;
  funded_today: number;
  my_report_written_today: boolean;
}

export interface ChangelogEntry {
  entry_id: string;
  posted_at: string;
  posted_by: string;
  title: string;
  body: string;
  version_label: string | null;
  withdrawn: boolean;
}
