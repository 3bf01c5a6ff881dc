// The organisation tree (issue #20): company → region → branch → team. View it, add a node under the
// selected one, move a node under another parent of the level above, remove a leaf (the service answers 409
// while a member, a role or an assignment still points at it: explained, not just shown as an error).
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Descriptions, Form, Input, Popconfirm, Select, Space, Tree, Typography } from "antd";
import { useMemo, useState } from "react";
import { ApiError } from "../../api/problem";
import { useAuth } from "../../auth/AuthProvider";
import { submitValid } from "../../components/submitValid";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { KINDS, addNode, listNodes, moveNode, removeNode, type NodeKind, type OrgNode } from "../../services/access";
import { buildTree, formFieldErrors, isLeaf, parentChoices, type TreeItem } from "./model";

interface AddValues { node_id: string; name: string }

function childKind(kind: NodeKind | null): NodeKind | null {
  return kind === null ? "company" : KINDS[KINDS.indexOf(kind) + 1] ?? null;
}

export default function OrgTreePage() {
  const { t } = useI18n();
  const { may } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const edit = may("access.org.edit");
  const nodes = useQuery({ queryKey: ["access", "nodes"], queryFn: ({ signal }) => listNodes(signal) });
  const [selected, setSelected] = useState<string | null>(null);
  const [newParent, setNewParent] = useState<string | null>(null);
  const [form] = Form.useForm<AddValues>();
  const all = useMemo(() => nodes.data ?? [], [nodes.data]);
  const node = all.find((n) => n.node_id === selected) ?? null;
  const addKind: NodeKind | null = node ? childKind(node.kind) : all.length === 0 ? "company" : null;
  const refresh = () => void qc.invalidateQueries({ queryKey: ["access", "nodes"] });
  const add = useMutation({
    mutationFn: (v: AddValues) => addNode({ node_id: v.node_id.trim(), name: v.name.trim(), kind: addKind!, parent_id: node?.node_id ?? null }),
    onSuccess: (n) => { message.success(t("common.saved")); form.resetFields(); refresh(); setSelected(n.node_id); },
    onError: (e) => form.setFields(formFieldErrors(e, ["node_id", "name"] as const)),
  });
  const move = useMutation({
    mutationFn: () => moveNode(node!.node_id, newParent!),
    onSuccess: () => { message.success(t("common.saved")); setNewParent(null); refresh(); },
  });
  const remove = useMutation({
    mutationFn: () => removeNode(node!.node_id),
    onSuccess: () => { message.success(t("common.saved")); setSelected(null); refresh(); },
  });
  const select = (id: string | null) => { setSelected(id); setNewParent(null); add.reset(); move.reset(); remove.reset(); form.resetFields(); };
  const kindLabel = (k: NodeKind) => t(`access.kind.${k}` as MessageKey);
  interface TreeNode { key: string; title: string; children: TreeNode[] }
  const toTree = (items: TreeItem[]): TreeNode[] =>
    items.map((i) => ({ key: i.key, title: `${i.node.name} · ${kindLabel(i.node.kind)} · ${i.node.node_id}`, children: toTree(i.children) }));
  const treeData = toTree(buildTree(all));
  const inUse = remove.error instanceof ApiError && remove.error.status === 409;

  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("access.org.title")}</Typography.Title>
      {!edit && <Alert type="info" showIcon message={t("access.readOnly")} style={{ marginBottom: 12 }} />}
      {nodes.isError ? <ProblemAlert error={nodes.error} onRetry={() => void nodes.refetch()} /> : (
        <div style={{ display: "flex", gap: 16, alignItems: "flex-start", flexWrap: "wrap" }}>
          <Card size="small" style={{ flex: "1 1 360px", minWidth: 320 }} loading={nodes.isPending}>
            {treeData.length === 0 ? <Typography.Text>{t("access.org.empty")}</Typography.Text> : (
              <Tree defaultExpandAll showLine treeData={treeData} selectedKeys={selected ? [selected] : []} key={all.length}
                onSelect={(keys) => select(keys.length ? String(keys[0]) : null)} data-testid="org-tree" />
            )}
          </Card>
          <Card size="small" style={{ flex: "1 1 360px", minWidth: 320 }} data-testid="org-node-card">
            {node ? (
              <Descriptions column={1} size="small" title={node.name}>
                <Descriptions.Item label={t("access.org.nodeId")}>{node.node_id}</Descriptions.Item>
                <Descriptions.Item label={t("access.org.kind")}>{kindLabel(node.kind)}</Descriptions.Item>
                <Descriptions.Item label={t("access.org.parent")}>{all.find((n) => n.node_id === node.parent_id)?.name ?? t("common.none")}</Descriptions.Item>
              </Descriptions>
            ) : <Typography.Paragraph>{t("access.org.pick")}</Typography.Paragraph>}
            {edit && node && node.kind !== "company" && (
              <Space wrap style={{ marginTop: 12 }}>
                <Select style={{ width: 240 }} placeholder={t("access.org.move")} aria-label={t("access.org.move")} value={newParent ?? undefined}
                  onChange={setNewParent} options={parentChoices(all, node).map((n: OrgNode) => ({ value: n.node_id, label: n.name }))} data-testid="org-move-parent" />
                <Button disabled={!newParent} loading={move.isPending} onClick={() => move.mutate()} data-testid="org-move">{t("access.org.moveButton")}</Button>
              </Space>
            )}
            {move.isError && <ProblemAlert error={move.error} />}
            {edit && node && (
              <div style={{ marginTop: 12 }}>
                {isLeaf(all, node.node_id) ? (
                  <Popconfirm title={t("access.org.removeConfirm")} okText={t("access.org.remove")} cancelText={t("common.cancel")} onConfirm={() => remove.mutate()}>
                    <Button danger icon={<DeleteOutlined />} loading={remove.isPending} data-testid="org-remove">{t("access.org.remove")}</Button>
                  </Popconfirm>
                ) : <Typography.Text type="secondary">{t("access.org.removeLeafOnly")}</Typography.Text>}
              </div>
            )}
            {inUse && <Alert type="warning" showIcon role="alert" style={{ marginTop: 12 }} message={t("access.org.inUse")} data-testid="org-in-use" />}
            {remove.isError && !inUse && <ProblemAlert error={remove.error} />}
            {edit && addKind && (
              <Form<AddValues> form={form} layout="vertical" name="org-add" style={{ marginTop: 16 }} onFinish={(v) => add.mutate(v)}>
                <Typography.Text strong>{node ? t("access.org.addChild", { kind: kindLabel(addKind) }) : t("access.org.addCompany")}</Typography.Text>
                <Form.Item name="node_id" label={t("access.org.nodeId")} rules={[{ required: true, whitespace: true, message: t("common.required") }, { max: 64 }, { pattern: /^[A-Za-z0-9_\-.:]+$/, message: t("access.f.idPattern") }]}>
                  <Input data-testid="org-add-id" />
                </Form.Item>
                <Form.Item name="name" label={t("access.f.name")} rules={[{ required: true, whitespace: true, message: t("common.required") }, { max: 200 }]}>
                  <Input data-testid="org-add-name" />
                </Form.Item>
                <Button icon={<PlusOutlined />} loading={add.isPending} onClick={() => submitValid(form, (v) => add.mutate(v))} data-testid="org-add">{t("common.add")}</Button>
                {add.isError && <div style={{ marginTop: 8 }}><ProblemAlert error={add.error} /></div>}
              </Form>
            )}
          </Card>
        </div>
      )}
    </>
  );
}
