// Add / edit an account manager: name, position, team, regions, languages, capacity, referral (QR) code.
import { Form, Input, InputNumber, Select } from "antd";
import type { FormInstance } from "antd";
import { useI18n } from "../../i18n";
import type { ManagerBody, ManagerPatchBody, ManagerRow, Team } from "../../services/assignment";
import { COUNTRY, ENTITY_ID, invalidEntries, LANGUAGE, MAX_CAPACITY, REFERRAL_CODE } from "./validation";

export interface ManagerValues {
  manager_id: string; name: string; position?: string; team_id?: string | null; regions: string[]; languages: string[];
  capacity: number; referral_code?: string; status?: "active" | "absent";
}

export function toCreateBody(v: ManagerValues): ManagerBody {
  return {
    manager_id: v.manager_id.trim(), name: v.name.trim(), position: v.position?.trim() || null, team_id: v.team_id || null,
    regions: v.regions ?? [], languages: v.languages ?? [], capacity: v.capacity, referral_code: v.referral_code?.trim() || null,
  };
}

/** Only what changed (the API keeps what a patch omits). */
export function toPatchBody(v: ManagerValues, before: ManagerRow): ManagerPatchBody {
  const out: Record<string, unknown> = {};
  const body = toCreateBody(v);
  if (body.name !== before.name) out.name = body.name;
  if ((body.position ?? null) !== (before.position ?? null)) out.position = body.position ?? null;
  if ((body.team_id ?? null) !== (before.team_id ?? null)) out.team_id = body.team_id ?? null;
  if (JSON.stringify(body.regions) !== JSON.stringify(before.regions)) out.regions = body.regions;
  if (JSON.stringify(body.languages) !== JSON.stringify(before.languages)) out.languages = body.languages;
  if (body.capacity !== before.capacity) out.capacity = body.capacity;
  if ((body.referral_code ?? null) !== (before.referral_code ?? null)) out.referral_code = body.referral_code ?? null;
  if (v.status && v.status !== before.status) out.status = v.status;
  return out as ManagerPatchBody;
}

export function ManagerForm({ form, editing, teams }: { form: FormInstance<ManagerValues>; editing: ManagerRow | null; teams: Team[] }) {
  const { t } = useI18n();
  const listRule = (pattern: RegExp, key: "managers.badRegion" | "managers.badLanguage") => ({
    validator: (_: unknown, v?: string[]) => {
      const bad = invalidEntries(v, pattern);
      return bad.length ? Promise.reject(new Error(t(key, { values: bad.join(", ") }))) : Promise.resolve();
    },
  });
  return (
    <Form<ManagerValues> form={form} layout="vertical" name="manager" initialValues={{ regions: [], languages: [], capacity: 200 }}>
      <Form.Item name="manager_id" label={t("managers.id")} extra={t("managers.idHint")}
        rules={[{ required: true, message: t("common.required") }, { pattern: ENTITY_ID, message: t("managers.badId") }]}>
        <Input disabled={!!editing} maxLength={64} />
      </Form.Item>
      <Form.Item name="name" label={t("field.name")} rules={[{ required: true, whitespace: true, message: t("common.required") }, { max: 200 }]}>
        <Input maxLength={200} />
      </Form.Item>
      <Form.Item name="position" label={t("managers.position")} rules={[{ max: 200 }]}>
        <Input maxLength={200} />
      </Form.Item>
      <Form.Item name="team_id" label={t("managers.team")}>
        <Select allowClear options={teams.map((x) => ({ value: x.team_id, label: `${x.name} (${x.team_id})` }))} />
      </Form.Item>
      <Form.Item name="regions" label={t("managers.regions")} extra={t("managers.regionsHint")} rules={[listRule(COUNTRY, "managers.badRegion")]}
        normalize={(v: string[]) => v.map((x) => x.trim().toUpperCase())}>
        <Select mode="tags" tokenSeparators={[",", " "]} open={false} />
      </Form.Item>
      <Form.Item name="languages" label={t("managers.languages")} extra={t("managers.languagesHint")} rules={[listRule(LANGUAGE, "managers.badLanguage")]}
        normalize={(v: string[]) => v.map((x) => x.trim())}>
        <Select mode="tags" tokenSeparators={[",", " "]} open={false} />
      </Form.Item>
      <Form.Item name="capacity" label={t("managers.capacity")} rules={[{ required: true, message: t("common.required") }, { type: "integer", min: 0, max: MAX_CAPACITY, message: t("managers.badCapacity", { max: MAX_CAPACITY }) }]}>
        <InputNumber min={0} max={MAX_CAPACITY} precision={0} style={{ width: 200 }} />
      </Form.Item>
      <Form.Item name="referral_code" label={t("managers.referralCode")} rules={[{ pattern: REFERRAL_CODE, message: t("managers.badCode") }]}>
        <Input maxLength={64} />
      </Form.Item>
      {editing && (
        <Form.Item name="status" label={t("managers.status")}>
          <Select options={["active", "absent"].map((s) => ({ value: s, label: t(`managers.status.${s}` as "managers.status.active") }))} />
        </Form.Item>
      )}
    </Form>
  );
}
