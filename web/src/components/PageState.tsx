// Loading, empty and error states, the same everywhere. Errors show the service's problem+json plainly:
// title, detail, each field's message, and the request id to quote to support.
import { Alert, Button, Empty, Spin } from "antd";
import type { ReactNode } from "react";
import { ApiError } from "../api/problem";
import { useI18n } from "../i18n";

export function PageLoading() {
  const { t } = useI18n();
  return (
    <div role="status" aria-live="polite" style={{ padding: 48, textAlign: "center" }}>
      <Spin />
      <div style={{ marginTop: 8 }}>{t("state.loading")}</div>
    </div>
  );
}

export function ProblemAlert({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  const api = error instanceof ApiError ? error : null;
  const title = api ? `${api.status} ${api.problem.title ?? ""}`.trim() : t("state.error");
  const detail = api ? (typeof api.problem.detail === "string" ? api.problem.detail : undefined) : error instanceof Error ? error.message : String(error);
  const fields = api?.problem.errors ?? [];
  return (
    <Alert
      type="error"
      showIcon
      role="alert"
      message={title}
      description={
        <div>
          {detail && <div>{detail}</div>}
          {fields.length > 0 && (
            <ul style={{ margin: "4px 0", paddingInlineStart: 20 }}>
              {fields.map((f) => (
                <li key={f.field}><code>{f.field}</code>: {f.message}</li>
              ))}
            </ul>
          )}
          {api?.requestId && (
            <div style={{ color: "#595959", fontSize: 12 }}>{t("state.requestId")}: <code>{api.requestId}</code></div>
          )}
        </div>
      }
      action={onRetry ? <Button size="small" onClick={onRetry}>{t("state.retry")}</Button> : undefined}
    />
  );
}

/** Renders loading / error / empty, else the children with the data. */
export function QueryState<T>({ query, isEmpty, empty, children }: {
  query: { isPending: boolean; isError: boolean; error: unknown; data: T | undefined; refetch: () => unknown };
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  const { t } = useI18n();
  if (query.isPending) return <PageLoading />;
  if (query.isError) return <ProblemAlert error={query.error} onRetry={() => void query.refetch()} />;
  const data = query.data as T;
  if (isEmpty?.(data)) return <Empty description={empty ?? t("state.empty")} />;
  return <>{children(data)}</>;
}
