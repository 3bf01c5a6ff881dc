// Manual imports of customers and leads (customer service): upload, progress, rejected rows, past imports.
import type { components } from "../api/customer";
import { customerApi, gatewayFetch } from "../api/clients";

export type ImportJob = components["schemas"]["ImportJobOut"];
export type ImportPage = components["schemas"]["ImportPage"];

const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/** Uploads the file as the request body (streamed by the browser); the same file again answers its job. */
export async function uploadImport(file: File): Promise<ImportJob> {
  const type = file.name.toLowerCase().endsWith(".xlsx") ? XLSX : "text/csv";
  const res = await gatewayFetch("customer", `/customer-imports?filename=${encodeURIComponent(file.name)}`, {
    method: "POST", body: file, headers: { "content-type": type },
  });
  return (await res.json()) as ImportJob;
}

export async function getImport(jobId: string, signal?: AbortSignal): Promise<ImportJob> {
  const { data } = await customerApi.GET("/customer-imports/{job_id}", { params: { path: { job_id: jobId } }, signal });
  return data as ImportJob;
}

export async function listImports(cursor: string | null, signal?: AbortSignal): Promise<ImportPage> {
  const { data } = await customerApi.GET("/customer-imports", { params: { query: { limit: 20, ...(cursor ? { cursor } : {}) } }, signal });
  return data as ImportPage;
}

/** The rejected rows (row, field, reason) as a CSV file. */
export async function rejectedRows(jobId: string): Promise<Blob> {
  const res = await gatewayFetch("customer", `/customer-imports/${jobId}/rejects`);
  return res.blob();
}

/** Percent of a job: 100 once done; while it runs, the rows read of the file's estimated rows (CSV), never
 * 100 before the job says done; without an estimate (XLSX), 0 until done. */
export function importPercent(job: Pick<ImportJob, "state" | "rows_read" | "rows_estimate">): number {
  if (job.state === "done") return 100;
  if (!job.rows_estimate) return 0;
  return Math.min(99, Math.floor((job.rows_read / job.rows_estimate) * 100));
}

export function isActive(job: Pick<ImportJob, "state">): boolean {
  return job.state === "queued" || job.state === "running";
}
