// One typed client per service, generated types from its OpenAPI (make web-clients). Every request goes
// through the gateway (/api/<service>/…) with the bearer token and a fresh X-Request-ID.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import { SESSION_EXPIRED_EVENT } from "../auth/AuthProvider";
import { currentToken } from "../auth/session";
import type { paths as AccessPaths } from "./access";
import type { paths as AssignmentPaths } from "./assignment";
import type { paths as AuditPaths } from "./audit";
import type { paths as CampaignsPaths } from "./campaigns";
import type { paths as CustomerPaths } from "./customer";
import type { paths as KycPaths } from "./kyc";
import { ApiError, problemOf } from "./problem";
import type { paths as SummaryPaths } from "./summary";
import type { paths as TasksPaths } from "./tasks";
import type { paths as UsercrmPaths } from "./usercrm";

export const SERVICES = ["customer", "assignment", "tasks", "summary", "kyc", "usercrm", "campaigns", "access", "audit"] as const;
export type Service = (typeof SERVICES)[number];

export function requestId(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `${Date.now().toString(16)}-${Math.random().toString(16).slice(2)}`;
}

export const authMiddleware: Middleware = {
  onRequest({ request }) {
    const token = currentToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    if (!request.headers.has("X-Request-ID")) request.headers.set("X-Request-ID", requestId());
    return request;
  },
  async onResponse({ request, response }) {
    if (response.ok) return response;
    if (response.status === 401) window.dispatchEvent(new Event(SESSION_EXPIRED_EVENT));
    const problem = await problemOf(response.clone());
    throw new ApiError(response.status, problem, request.headers.get("X-Request-ID"));
  },
};

export function baseUrl(service: Service): string {
  return `${window.location.origin}/api/${service}`;
}

function make<P extends {}>(service: Service): Client<P> {
  const client = createClient<P>({
    baseUrl: baseUrl(service),
    querySerializer: { array: { style: "form", explode: true } },
    fetch: (request: Request) => globalThis.fetch(request), // resolved per call (tests replace fetch)
  });
  client.use(authMiddleware);
  return client;
}

export const customerApi = make<CustomerPaths>("customer");
export const assignmentApi = make<AssignmentPaths>("assignment");
export const tasksApi = make<TasksPaths>("tasks");
export const summaryApi = make<SummaryPaths>("summary");
export const kycApi = make<KycPaths>("kyc");
export const usercrmApi = make<UsercrmPaths>("usercrm");
export const campaignsApi = make<CampaignsPaths>("campaigns");
export const accessApi = make<AccessPaths>("access");
export const auditApi = make<AuditPaths>("audit");

/** Plain authenticated fetch through the gateway (streamed downloads such as the CSV export). */
export async function gatewayFetch(service: Service, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = currentToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  const rid = requestId();
  headers.set("X-Request-ID", rid);
  const res = await fetch(`${baseUrl(service)}${path}`, { ...init, headers });
  if (!res.ok) {
    if (res.status === 401) window.dispatchEvent(new Event(SESSION_EXPIRED_EVENT));
    throw new ApiError(res.status, await problemOf(res), rid);
  }
  return res;
}
