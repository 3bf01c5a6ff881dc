// Add / edit a team: name, leader, protection period, what a reclaim does with its customers (the team's pool or
// routed again by the rules) and its pool's SLA (services/assignment/api/models.py TeamIn / TeamPatch).
import { Form, Input, InputNumber, Select } from "antd";
import type { FormInstance } from "antd";
import { useI18n } from "../../i18n";
import type { Team, TeamBody, TeamPatchBody } from "../../services/assignment";
import { ENTITY_ID } from "./validation";

export const MAX_POOL_SLA_MINUTES = 525_600;
/** the Select's value for "the service's default" (null in the API) */
const DEFAULT = "default";

export interface TeamValues {
  team_id: string; name: string; leader_id?: string; protection_days: number;
  reclaim_policy: "pool" | "reroute" | typeof DEFAULT; pool_sla_minutes?: number | null;
}

export function toTeamValues(team: Team): TeamValues {
  return {
    team_id: team.team_id, name: team.name, leader_id: team.leader_id ?? undefined, protection_days: team.protection_days,
    reclaim_policy: team.reclaim_policy ?? DEFAULT, pool_sla_minutes: team.pool_sla_minutes ?? null,
  };
}

export function toTeamBody(v: TeamValues): TeamBody {
  return {
    team_id: v.team_id.trim(), name: v.name.trim(), leader_id: v.leader_id?.trim() || null, protection_days: v.protection_days,
    reclaim_policy: v.reclaim_policy === DEFAULT ? null : v.reclaim_policy, pool_sla_minutes: v.pool_sla_minutes ?? null,
  };
}

/** Only what changed (the API keeps what a patch omits; null puts the service's default back). */
export function toTeamPatch(v: TeamValues, before: Team): TeamPatchBody {
  const body = toTeamBody(v);
  const out: TeamPatchBody = {};
  if (body.name !== before.name) out.name = body.name;
  if ((body.leader_id ?? null) !== (before.leader_id ?? null)) out.leader_id = body.leader_id ?? null;
  if (body.protection_days !== before.protection_days) out.protection_days = body.protection_days;
  if ((body.reclaim_policy ?? null) !== (before.reclaim_policy ?? null)) out.reclaim_policy = body.reclaim_policy ?? null;
  if ((body.pool_sla_minutes ?? null) !== (before.pool_sla_minutes ?? null)) out.pool_sla_minutes = body.pool_sla_minutes ?? null;
  return out;
}

export function TeamForm({ form, editing }: { form: FormInstance<TeamValues>; editing: Team | null }) {
  const { t } = useI18n();
  return (
    <Form<TeamValues> form={form} layout="vertical" name="team" initialValues={{ protection_days: 7, reclaim_policy: DEFAULT, pool_sla_minutes: null }}>
      <Form.Item name="team_id" label={t("teams.id")}
        rules={[{ required: true, message: t("common.required") }, { pattern: ENTITY_ID, message: t("managers.badId") }]}>
        <Input disabled={!!editing} maxLength={64} data-testid="team-id" />
      </Form.Item>
      <Form.Item name="name" label={t("field.name")} rules={[{ required: true, whitespace: true, message: t("common.required") }, { max: 200 }]}>
        <Input maxLength={200} data-testid="team-name" />
      </Form.Item>
      <Form.Item name="leader_id" label={t("teams.leader")} extra={t("teams.leaderHint")} rules={[{ pattern: ENTITY_ID, message: t("managers.badId") }]}>
        <Input maxLength={64} allowClear />
      </Form.Item>
      <Form.Item name="protection_days" label={t("teams.protection")} extra={t("teams.protectionHint")} rules={[{ required: true, message: t("common.required") }]}>
        <InputNumber min={1} max={365} precision={0} suffix={t("teams.daysUnit")} style={{ width: 200 }} data-testid="team-protection" />
      </Form.Item>
      <Form.Item name="reclaim_policy" label={t("teams.reclaim")} extra={t("teams.reclaimHint")}>
        <Select data-testid="team-reclaim" options={(["default", "pool", "reroute"] as const).map((v) => ({ value: v, label: t(`teams.reclaim.${v}`) }))} />
      </Form.Item>
      <Form.Item name="pool_sla_minutes" label={t("teams.poolSla")} extra={t("teams.poolSlaHint")}>
        <InputNumber min={1} max={MAX_POOL_SLA_MINUTES} precision={0} suffix={t("teams.minutesUnit")} style={{ width: 200 }} data-testid="team-pool-sla" />
      </Form.Item>
    </Form>
  );
}
