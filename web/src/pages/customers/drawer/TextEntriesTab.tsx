// Remarks (everyone who can see the customer) and private notes (their author only): a list and an add box.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Form, Input, List, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useAuth } from "../../../auth/AuthProvider";
import { ProblemAlert, QueryState } from "../../../components/PageState";
import { useI18n } from "../../../i18n";
import type { MessageKey } from "../../../i18n/en";
import { addNote, addRemark, listNotes, listRemarks } from "../../../services/customers";
import type { Customer360 } from "../../../services/customers";
import type { TextEntry } from "../../../services/models";

type Entry = TextEntry & { sources?: string[] };

function EntriesTab({ customerId, kind, load, add, addKey, emptyKey, hint, items }: {
  customerId: string;
  kind: "remarks" | "notes";
  load: (id: string) => Promise<TextEntry[]>;
  add: (id: string, text: string) => Promise<void>;
  addKey: MessageKey;
  emptyKey: MessageKey;
  hint?: MessageKey;
  /** handed over by the drawer's one call: shown instead of reading them */
  items?: Entry[];
}) {
  const { t } = useI18n();
  const { may } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<{ text: string }>();
  const key = ["customer", customerId, kind];
  const own = useQuery<Entry[]>({ queryKey: key, queryFn: () => load(customerId), enabled: !items });
  const q = items ? { isPending: false, isError: false, error: null, data: items, refetch: () => undefined } : own;
  const m = useMutation({
    mutationFn: (text: string) => add(customerId, text),
    onSuccess: () => {
      form.resetFields();
      message.success(t("common.saved"));
      void qc.invalidateQueries({ queryKey: items ? ["customer", customerId] : key });
    },
  });
  return (
    <>
      {hint && <Typography.Paragraph type="secondary">{t(hint)}</Typography.Paragraph>}
      {may("customers.edit") && (
        <Form form={form} layout="vertical" name={`add-${kind}`} onFinish={(v) => m.mutate(v.text.trim())} style={{ marginBottom: 16 }}>
          <Form.Item name="text" label={t(addKey)} rules={[{ required: true, whitespace: true, message: t("common.required") }, { max: 4000 }]}>
            <Input.TextArea rows={2} maxLength={4000} showCount />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={m.isPending} data-testid={`${kind}-submit`}>{t("common.add")}</Button>
          {m.isError && <div style={{ marginTop: 8 }}><ProblemAlert error={m.error} /></div>}
        </Form>
      )}
      <QueryState query={q} isEmpty={(d) => d.length === 0} empty={t(emptyKey)}>
        {(items) => (
          <List
            dataSource={items}
            renderItem={(r) => (
              <List.Item>
                <List.Item.Meta
                  title={<span>{r.author} · <Typography.Text type="secondary">{dayjs(r.created_at).format("YYYY-MM-DD HH:mm")}</Typography.Text>
                    {(r.sources ?? []).map((x) => <Tag key={x} style={{ marginLeft: 8 }} data-testid="remark-source">{t(`remark.source.${x}` as MessageKey)}</Tag>)}</span>}
                  description={<span style={{ whiteSpace: "pre-wrap", color: "rgba(0,0,0,0.75)" }}>{r.text}</span>}
                />
              </List.Item>
            )}
          />
        )}
      </QueryState>
    </>
  );
}

/** Remarks: with `merged` (the 360's one set of the customer's and the follow-ups' remarks) shown as given. */
export function RemarksTab({ customerId, merged }: { customerId: string; merged?: Customer360["remarks"] }) {
  const items = merged?.map((r) => ({ customer_id: customerId, text: r.text, author: r.author, created_at: r.at, sources: r.sources }));
  return <EntriesTab customerId={customerId} kind="remarks" load={listRemarks} add={addRemark} addKey="remark.add" emptyKey="remark.empty" items={items} />;
}

export function NotesTab({ customerId }: { customerId: string }) {
  return <EntriesTab customerId={customerId} kind="notes" load={listNotes} add={addNote} addKey="note.add" emptyKey="note.empty" hint="note.hint" />;
}
