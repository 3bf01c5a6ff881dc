// Remarks (everyone who can see the customer) and private notes (their author only): a list and an add box.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Form, Input, List, Typography } from "antd";
import dayjs from "dayjs";
import { useAuth } from "../../../auth/AuthProvider";
import { ProblemAlert, QueryState } from "../../../components/PageState";
import { useI18n } from "../../../i18n";
import type { MessageKey } from "../../../i18n/en";
import { addNote, addRemark, listNotes, listRemarks } from "../../../services/customers";
import type { TextEntry } from "../../../services/models";

function EntriesTab({ customerId, kind, load, add, addKey, emptyKey, hint }: {
  customerId: string;
  kind: "remarks" | "notes";
  load: (id: string) => Promise<TextEntry[]>;
  add: (id: string, text: string) => Promise<void>;
  addKey: MessageKey;
  emptyKey: MessageKey;
  hint?: MessageKey;
}) {
  const { t } = useI18n();
  const { can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<{ text: string }>();
  const key = ["customer", customerId, kind];
  const q = useQuery({ queryKey: key, queryFn: () => load(customerId) });
  const m = useMutation({
    mutationFn: (text: string) => add(customerId, text),
    onSuccess: () => {
      form.resetFields();
      message.success(t("common.saved"));
      void qc.invalidateQueries({ queryKey: key });
    },
  });
  return (
    <>
      {hint && <Typography.Paragraph type="secondary">{t(hint)}</Typography.Paragraph>}
      {can("CustomerWrite") && (
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
                  title={<span>{r.author} · <Typography.Text type="secondary">{dayjs(r.created_at).format("YYYY-MM-DD HH:mm")}</Typography.Text></span>}
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

export function RemarksTab({ customerId }: { customerId: string }) {
  return <EntriesTab customerId={customerId} kind="remarks" load={listRemarks} add={addRemark} addKey="remark.add" emptyKey="remark.empty" />;
}

export function NotesTab({ customerId }: { customerId: string }) {
  return <EntriesTab customerId={customerId} kind="notes" load={listNotes} add={addNote} addKey="note.add" emptyKey="note.empty" hint="note.hint" />;
}
