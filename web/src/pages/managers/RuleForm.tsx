import { Form, Input, InputNumber, Select, Switch } from "antd";
import type { FormInstance } from "antd";
import { useI18n } from "../../i18n";
import type { ManagerRow, RuleBody, RuleDefinition, Team } from "../../services/assignment";
import type { Segment } from "../../services/customers";
import type { Institution } from "../../services/institutions";
import { CHANNELS } from "../../services/models";
import { COUNTRY, ENTITY_ID, invalidEntries, LANGUAGE, REFERRAL_CODE } from "./validation";

export interface RuleValues extends RuleDefinition { rule_id: string }

export function toRuleBody(v: RuleValues): RuleBody {
  const { rule_id: _id, ...d } = v;
  void _id;
  return { ...d, name: d.name?.trim() || null, team_id: d.team_id || null, manager_id: d.manager_id || null } as RuleBody;
}

export function RuleForm({ form, existing, teams, managers, institutions = [], segments = [] }: { form: FormInstance<RuleValues>; existing: boolean; teams: Team[]; managers: ManagerRow[]; institutions?: Institution[]; segments?: Segment[] }) {
  const { t, label } = useI18n();
  const list = (pattern: RegExp) => ({
    validator: (_: unknown, v?: string[]) => {
      const bad = invalidEntries(v, pattern);
      return bad.length ? Promise.reject(new Error(t("rules.badValues", { values: bad.join(", ") }))) : Promise.resolve();
    },
  });
  return (
    <Form<RuleValues> form={form} layout="vertical" name="rule"
      initialValues={{ position: 100, strategy: "round_robin", allocation: "direct", enabled: true, regions: [], channels: [], languages: [], referral_codes: [], institutions: [], segments: [] }}>
      <Form.Item name="rule_id" label={t("rules.id")} rules={[{ required: true, message: t("common.required") }, { pattern: ENTITY_ID, message: t("managers.badId") }]}>
        <Input disabled={existing} maxLength={64} />
      </Form.Item>
      <Form.Item name="name" label={t("field.name")} rules={[{ max: 200 }]}><Input maxLength={200} /></Form.Item>
      <Form.Item name="position" label={t("rules.position")} extra={t("rules.positionHint")} rules={[{ required: true, message: t("common.required") }]}>
        <InputNumber min={0} max={1_000_000} precision={0} />
      </Form.Item>
      <Form.Item name="regions" label={t("managers.regions")} rules={[list(COUNTRY)]} normalize={(v: string[]) => v.map((x) => x.trim().toUpperCase())}>
        <Select mode="tags" tokenSeparators={[",", " "]} open={false} />
      </Form.Item>
      <Form.Item name="channels" label={t("field.channel")}>
        <Select mode="multiple" options={CHANNELS.map((c) => ({ value: c, label: label("channel", c) }))} />
      </Form.Item>
      <Form.Item name="languages" label={t("managers.languages")} rules={[list(LANGUAGE)]}>
        <Select mode="tags" tokenSeparators={[",", " "]} open={false} />
      </Form.Item>
      <Form.Item name="referral_codes" label={t("rules.referralCodes")} rules={[list(REFERRAL_CODE)]}>
        <Select mode="tags" tokenSeparators={[",", " "]} open={false} />
      </Form.Item>
      {/* the rule matches a customer whose institution_id is one of these (customer service's institutions) */}
      <Form.Item name="institutions" label={t("rules.institutions")} rules={[list(ENTITY_ID)]}>
        <Select mode="multiple" showSearch optionFilterProp="label" data-testid="rule-institutions"
          options={institutions.map((i) => ({ value: i.institution_id, label: `${i.name} (${i.institution_id})` }))} />
      </Form.Item>
      {/* the rule matches a customer in any of these saved segments at registration (customer service's segments) */}
      <Form.Item name="segments" label={t("rules.segments")} rules={[list(ENTITY_ID)]}>
        <Select mode="multiple" showSearch optionFilterProp="label" data-testid="rule-segments"
          options={segments.map((s) => ({ value: s.segment_id, label: `${s.name} (${t(`segments.kind.${s.kind}` as "segments.kind.static")})` }))} />
      </Form.Item>
      <Form.Item name="team_id" label={t("managers.team")}>
        <Select allowClear options={teams.map((x) => ({ value: x.team_id, label: x.name }))} />
      </Form.Item>
      <Form.Item name="manager_id" label={t("rules.manager")}>
        <Select allowClear showSearch optionFilterProp="label" options={managers.map((m) => ({ value: m.manager_id, label: `${m.name} (${m.manager_id})` }))} />
      </Form.Item>
      {/* step-by-step allocation: the customer waits in the team's pool until its lead distributes it */}
      <Form.Item name="allocation" label={t("rules.allocation")} dependencies={["team_id"]}
        rules={[({ getFieldValue }) => ({ validator: (_: unknown, v?: string) => (v === "team_pool" && !getFieldValue("team_id") ? Promise.reject(new Error(t("common.required") + ": " + t("managers.team"))) : Promise.resolve()) })]}>
        <Select data-testid="rule-allocation" options={(["direct", "team_pool"] as const).map((a) => ({ value: a, label: t(`rules.allocation.${a}`) }))} />
      </Form.Item>
      <Form.Item name="strategy" label={t("rules.strategy")}>
        <Select options={["round_robin", "least_loaded"].map((s) => ({ value: s, label: t(`rules.strategy.${s}` as "rules.strategy.round_robin") }))} />
      </Form.Item>
      <Form.Item name="enabled" label={t("rules.enabled")} valuePropName="checked"><Switch /></Form.Item>
    </Form>
  );
}
