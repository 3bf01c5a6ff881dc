// Teams and Rules (seed 000 "auto-assignment rules"): teams with their members, the ordered routing rules
// with their versions, editing (AssignmentManage), a preview of where a customer would be routed, and adding and
// editing teams — protection period, reclaim policy, pool SLA (SupportManageFull).
import { submitValid } from "../../components/submitValid";
import { DownOutlined, EditOutlined, HistoryOutlined, PlusOutlined, RightOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Col, Drawer, Form, Input, Modal, Row, Select, Space, Table, Tag, Timeline, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert, QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { createTeam, editTeam, getTeam, listRules, listTeams, managersPage, ruleVersions, saveRule, type RuleDefinition, type RuleRow, type Team } from "../../services/assignment";
import { listSegments } from "../../services/customers";
import { allInstitutions } from "../../services/institutions";
import { CHANNELS } from "../../services/models";
import { RuleForm, toRuleBody, type RuleValues } from "./RuleForm";
import { ordered, routeFor, type CustomerFacts } from "./routing";
import { TeamForm, toTeamBody, toTeamPatch, toTeamValues, type TeamValues } from "./TeamForm";

/** Where a rule sends a customer: its manager, its team (by the strategy), the team's pool, or the pool. */
function targetOf(d: RuleDefinition, t: ReturnType<typeof useI18n>["t"]): string {
  if (d.allocation === "team_pool" && d.team_id) return t("rules.teamPoolOf", { team: d.team_id });
  return d.manager_id ?? d.team_id ?? t("rules.pool");
}

function Conditions({ d }: { d: RuleDefinition }) {
  const { t, label } = useI18n();
  const parts: [MessageKey, string[]][] = [["managers.regions", d.regions], ["field.channel", d.channels.map((c) => label("channel", c))], ["managers.languages", d.languages], ["rules.referralCodes", d.referral_codes], ["rules.institutions", d.institutions ?? []], ["rules.segments", d.segments ?? []]];
  const set = parts.filter(([, v]) => v.length);
  if (!set.length) return <Typography.Text type="secondary">{t("rules.anyCustomer")}</Typography.Text>;
  return <>{set.map(([k, v]) => <div key={k}><Typography.Text type="secondary">{t(k)}:</Typography.Text> {v.map((x) => <Tag key={x}>{x}</Tag>)}</div>)}</>;
}

function TeamMembers({ team }: { team: Team }) {
  const { t } = useI18n();
  const q = useQuery({ queryKey: ["team", team.team_id], queryFn: ({ signal }) => getTeam(team.team_id, signal) });
  return (
    <QueryState query={q} isEmpty={(d) => !d.members?.length} empty={t("teams.noMembers")}>
      {(d) => <Space wrap>{d.members!.map((m) => <Tag key={m.manager_id} color={m.status === "active" ? "blue" : undefined}>{m.manager_id}</Tag>)}</Space>}
    </QueryState>
  );
}

function Versions({ ruleId, onClose }: { ruleId: string | null; onClose: () => void }) {
  const { t } = useI18n();
  const q = useQuery({ queryKey: ["rules", ruleId, "versions"], queryFn: ({ signal }) => ruleVersions(ruleId!, signal), enabled: !!ruleId });
  return (
    <Drawer open={!!ruleId} onClose={onClose} width={560} title={t("rules.versionsOf", { id: ruleId ?? "" })} closable={{ "aria-label": t("common.close") }}>
      {ruleId && (
        <QueryState query={q}>
          {(vs) => (
            <Timeline items={[...vs].reverse().map((v) => ({
              key: v.version,
              children: (
                <>
                  <Typography.Text strong>{t("report.version", { n: v.version })}</Typography.Text>{" "}
                  <Typography.Text type="secondary">{dayjs(v.changed_at).format("YYYY-MM-DD HH:mm")} · {v.changed_by ?? "—"}</Typography.Text>
                  <div>{t("rules.position")}: {v.definition.position} · {t(`rules.strategy.${v.definition.strategy}` as MessageKey)} · {v.definition.enabled ? t("rules.on") : t("rules.off")}</div>
                  <div>{t("rules.target")}: {targetOf(v.definition, t)}</div>
                  <Conditions d={v.definition} />
                </>
              ),
            }))} />
          )}
        </QueryState>
      )}
    </Drawer>
  );
}

function Preview({ rules }: { rules: RuleRow[] }) {
  const { t, label } = useI18n();
  const [facts, setFacts] = useState<CustomerFacts | null>(null);
  const hit = facts ? routeFor(rules, facts) : null;
  return (
    <Card size="small" title={t("rules.preview")}>
      <Form<CustomerFacts> layout="vertical" name="route-preview" onFinish={(v) => setFacts(v)}>
        <Row gutter={8}>
          <Col span={12}><Form.Item name="region" label={t("rules.region")} normalize={(v: string) => v.toUpperCase()}><Input maxLength={2} placeholder="HK" /></Form.Item></Col>
          <Col span={12}><Form.Item name="language" label={t("field.language")}><Input maxLength={16} placeholder="zh-HK" /></Form.Item></Col>
          <Col span={12}><Form.Item name="channel" label={t("field.channel")}><Select allowClear options={CHANNELS.map((c) => ({ value: c, label: label("channel", c) }))} /></Form.Item></Col>
          <Col span={12}><Form.Item name="referral_code" label={t("field.referralCode")}><Input maxLength={64} /></Form.Item></Col>
          <Col span={12}><Form.Item name="institution_id" label={t("institutions.id")}><Input maxLength={64} /></Form.Item></Col>
        </Row>
        <Button htmlType="submit" data-testid="route-preview">{t("rules.previewRun")}</Button>
      </Form>
      {facts && (
        <div style={{ marginTop: 12 }} aria-live="polite" data-testid="route-result">
          {hit ? (
            <Alert type="info" showIcon message={t("rules.routedBy", { rule: hit.definition.name || hit.rule_id, version: hit.version })}
              description={`${t("rules.target")}: ${targetOf(hit.definition, t)} · ${t(`rules.strategy.${hit.definition.strategy}` as MessageKey)}`} />
          ) : <Alert type="warning" showIcon message={t("rules.noRule")} />}
        </div>
      )}
    </Card>
  );
}

export default function TeamsRulesPage() {
  const { t } = useI18n();
  const { may } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const manage = may("rules.manage");
  const manageTeams = may("teams.manage");
  const teams = useQuery({ queryKey: ["teams"], queryFn: ({ signal }) => listTeams(signal) });
  const rules = useQuery({ queryKey: ["rules"], queryFn: ({ signal }) => listRules(signal) });
  const managers = useQuery({ queryKey: ["managers", "active-all"], queryFn: ({ signal }) => managersPage({ status: "active", limit: 500 }, signal), enabled: manage });
  const institutions = useQuery({ queryKey: ["institutions", "all"], queryFn: ({ signal }) => allInstitutions(signal), enabled: manage });
  const segments = useQuery({ queryKey: ["customers", "segments"], queryFn: ({ signal }) => listSegments(signal), enabled: manage });
  const [versionsOf, setVersionsOf] = useState<string | null>(null);
  const [editing, setEditing] = useState<RuleRow | "new" | null>(null);
  const [form] = Form.useForm<RuleValues>();
  const save = useMutation({
    mutationFn: (v: RuleValues) => saveRule(v.rule_id.trim(), toRuleBody(v)),
    onSuccess: () => { message.success(t("common.saved")); setEditing(null); setTimeout(() => void qc.invalidateQueries({ queryKey: ["rules"] }), 800); },
  });
  const [teamEditing, setTeamEditing] = useState<Team | "new" | null>(null);
  const [teamForm] = Form.useForm<TeamValues>();
  const saveTeam = useMutation({
    mutationFn: (v: TeamValues) => (teamEditing && teamEditing !== "new" ? editTeam(teamEditing.team_id, toTeamPatch(v, teamEditing)) : createTeam(toTeamBody(v))),
    onSuccess: () => { message.success(t("common.saved")); setTeamEditing(null); void qc.invalidateQueries({ queryKey: ["teams"] }); },
  });
  const openTeam = (team: Team | "new") => {
    saveTeam.reset();
    teamForm.resetFields();
    if (team !== "new") teamForm.setFieldsValue(toTeamValues(team));
    setTeamEditing(team);
  };
  const open = (r: RuleRow | "new") => {
    save.reset();
    form.resetFields();
    if (r !== "new") form.setFieldsValue({ rule_id: r.rule_id, ...r.definition });
    setEditing(r);
  };
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("rules.title")}</Typography.Title>
      <Row gutter={16}>
        <Col span={16}>
          <Card size="small" title={t("rules.rules")} extra={manage && <Button size="small" icon={<PlusOutlined />} onClick={() => open("new")}>{t("rules.add")}</Button>}>
            <QueryState query={rules}>
              {(rs) => (
                <Table<RuleRow> rowKey="rule_id" size="small" pagination={false} dataSource={ordered(rs)} locale={{ emptyText: t("rules.empty") }} data-testid="rules-table"
                  columns={[
                    { title: t("rules.position"), dataIndex: "position", width: 80 },
                    { title: t("rules.rule"), key: "rule", render: (_, r) => <><Typography.Text strong>{r.definition.name || r.rule_id}</Typography.Text> <Tag>{t("report.version", { n: r.version })}</Tag>{!r.enabled && <Tag color="default">{t("rules.off")}</Tag>}</> },
                    { title: t("rules.when"), key: "when", render: (_, r) => <Conditions d={r.definition} /> },
                    { title: t("rules.target"), key: "target", render: (_, r) => <>{targetOf(r.definition, t)}<div style={{ fontSize: 12, color: "#595959" }}>{t(`rules.strategy.${r.definition.strategy}` as MessageKey)}</div></> },
                    { title: t("common.actions"), key: "act", render: (_, r) => (
                      <Space size={4}>
                        <Button size="small" icon={<HistoryOutlined />} onClick={() => setVersionsOf(r.rule_id)} aria-label={t("rules.versionsOf", { id: r.rule_id })} />
                        {manage && <Button size="small" icon={<EditOutlined />} onClick={() => open(r)} aria-label={t("rules.editRule", { id: r.rule_id })} />}
                      </Space>) },
                  ]} />
              )}
            </QueryState>
          </Card>
          <Card size="small" title={t("teams.title")} style={{ marginTop: 16 }}
            extra={manageTeams && <Button size="small" icon={<PlusOutlined />} onClick={() => openTeam("new")} data-testid="team-add">{t("teams.add")}</Button>}>
            <QueryState query={teams} isEmpty={(ts) => ts.length === 0}>
              {(ts) => (
                <Table<Team> rowKey="team_id" size="small" pagination={false} dataSource={ts}
                  expandable={{
                    expandedRowRender: (team) => <TeamMembers team={team} />,
                    // the button says whose members it shows (antd's own says only "Expand row")
                    expandIcon: ({ expanded, onExpand, record }) => (
                      <Button type="text" size="small" aria-expanded={expanded} icon={expanded ? <DownOutlined /> : <RightOutlined />}
                        aria-label={t(expanded ? "teams.hideMembers" : "teams.showMembers", { name: record.name })}
                        data-testid={`team-expand-${record.team_id}`} onClick={(e) => onExpand(record, e)} />),
                  }}
                  columns={[
                    { title: t("field.name"), dataIndex: "name", render: (v: string, r) => <>{v} <Typography.Text type="secondary">({r.team_id})</Typography.Text></> },
                    { title: t("teams.leader"), dataIndex: "leader_id", render: (v: string | null) => v ?? "—" },
                    { title: t("teams.protection"), dataIndex: "protection_days", render: (v: number) => t("teams.days", { n: v }) },
                    { title: t("teams.poolSla"), dataIndex: "pool_sla_minutes", render: (v?: number | null) => (v ? t("pool.minutes", { n: v }) : "—") },
                    { title: t("teams.reclaim"), dataIndex: "reclaim_policy", render: (v: Team["reclaim_policy"]) => t(v ? `teams.reclaim.${v}` : "teams.reclaim.default") },
                    ...(manageTeams ? [{ title: t("common.actions"), key: "act", render: (_: unknown, r: Team) => (
                      <Button size="small" icon={<EditOutlined />} onClick={() => openTeam(r)} aria-label={t("teams.edit", { name: r.name })} data-testid={`team-edit-${r.team_id}`} />) }] : []),
                  ]} />
              )}
            </QueryState>
          </Card>
        </Col>
        <Col span={8}>{rules.data && <Preview rules={rules.data} />}</Col>
      </Row>
      <Versions ruleId={versionsOf} onClose={() => setVersionsOf(null)} />
      <Modal open={teamEditing !== null} forceRender width={520} onCancel={() => setTeamEditing(null)}
        title={teamEditing === "new" ? t("teams.add") : t("teams.edit", { name: teamEditing?.name ?? "" })}
        okText={t("common.save")} confirmLoading={saveTeam.isPending} onOk={() => submitValid(teamForm, (v) => saveTeam.mutate(v))}>
        <TeamForm form={teamForm} editing={teamEditing !== "new" ? teamEditing : null} />
        {saveTeam.isError && <ProblemAlert error={saveTeam.error} />}
      </Modal>
      <Modal open={editing !== null} forceRender width={600} onCancel={() => setEditing(null)} title={editing === "new" ? t("rules.add") : t("rules.editRule", { id: editing?.rule_id ?? "" })}
        okText={t("common.save")} confirmLoading={save.isPending} onOk={() => submitValid(form, (v) => save.mutate(v))}>
        <RuleForm form={form} existing={editing !== "new" && editing !== null} teams={teams.data ?? []} managers={managers.data?.items ?? []} institutions={institutions.data ?? []} segments={segments.data ?? []} />
        {save.isError && <ProblemAlert error={save.error} />}
      </Modal>
    </>
  );
}
