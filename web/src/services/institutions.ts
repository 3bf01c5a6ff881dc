// Institutions customers come through (customer service, seed 004 §I.1): listed by name, created and edited
// (AssignmentManage); an import row's `institution_id` and the assignment rules' `institutions` condition name them.
import type { components } from "../api/customer";
import { customerApi } from "../api/clients";

export type Institution = components["schemas"]["InstitutionOut"];
export type InstitutionPage = components["schemas"]["InstitutionPage"];
export type InstitutionBody = components["schemas"]["InstitutionIn"];

export async function listInstitutions(cursor: string | null, signal?: AbortSignal, limit = 50): Promise<InstitutionPage> {
  const { data } = await customerApi.GET("/institutions", { params: { query: { limit, ...(cursor ? { cursor } : {}) } }, signal });
  return data as InstitutionPage;
}

/** Every institution (the rule form's choices): the pages followed to the end, 200 at a time. */
export async function allInstitutions(signal?: AbortSignal): Promise<Institution[]> {
  const out: Institution[] = [];
  let cursor: string | null = null;
  do {
    const page: InstitutionPage = await listInstitutions(cursor, signal, 200);
    out.push(...page.items);
    cursor = page.next_cursor ?? null;
  } while (cursor);
  return out;
}

export async function createInstitution(institutionId: string, body: InstitutionBody): Promise<Institution> {
  const { data } = await customerApi.POST("/institutions", { body: { institution_id: institutionId, ...body } });
  return data as Institution;
}

export async function updateInstitution(institutionId: string, body: InstitutionBody): Promise<Institution> {
  const { data } = await customerApi.PUT("/institutions/{institution_id}", { params: { path: { institution_id: institutionId } }, body });
  return data as Institution;
}
