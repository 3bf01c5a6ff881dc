// The assignment service's field rules (services/assignment/api/models.py), checked before sending.
export const ENTITY_ID = /^[A-Za-z0-9_\-.:]{1,64}$/;
export const COUNTRY = /^[A-Z]{2}$/;
export const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/;
export const REFERRAL_CODE = /^[A-Za-z0-9_-]{3,64}$/;
export const MAX_CAPACITY = 1_000_000;

/** The entries of a list that do not match a pattern (to name them in the message). */
export function invalidEntries(values: string[] | undefined, pattern: RegExp): string[] {
  return (values ?? []).filter((v) => !pattern.test(v));
}
