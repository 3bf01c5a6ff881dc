import { SCREENS } from "./routes";

/** Click-throughs only to screens that exist in this build (a later screen turns its links on). */
export function screenExists(path: string): boolean {
  return SCREENS.some((s) => s.path === path);
}
