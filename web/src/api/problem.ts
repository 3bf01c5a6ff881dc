// problem+json (RFC 9457) as the services answer errors: shown to the user plainly, field by field.
export interface ProblemField {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: unknown;
  errors?: ProblemField[];
  [extra: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly requestId: string | null;

  constructor(status: number, problem: Problem, requestId: string | null) {
    super(ApiError.describe(status, problem));
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.requestId = requestId;
  }

  static describe(status: number, p: Problem): string {
    const detail = typeof p.detail === "string" ? p.detail : p.detail == null ? "" : JSON.stringify(p.detail);
    return [p.title ?? `HTTP ${status}`, detail].filter(Boolean).join(": ");
  }

  /** field → message, for forms (`body.manager_id` → `manager_id`). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.problem.errors ?? []) {
      const name = e.field.replace(/^(body|query|path)\./, "");
      out[name] = e.message;
    }
    return out;
  }
}

export async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text().catch(() => "");
  try {
    const parsed = JSON.parse(text) as Problem;
    return typeof parsed === "object" && parsed ? parsed : { title: res.statusText, detail: text };
  } catch {
    return { title: res.statusText || `HTTP ${res.status}`, detail: text.slice(0, 300) || undefined };
  }
}
