// The console's menus and buttons name only permissions the services declare: checked against the Perm enum
// generated from the access service's OpenAPI (api/access.d.ts, `make web-clients`), not against a copy.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SCREENS } from "../app/routes";
import { DRAWER_TABS } from "../pages/customers/drawer/CustomerDrawer";
import { INFO_TABS } from "../services/usercrm";
import { ACTIONS, MENU, meets, namedPermissions, TABS } from "./catalogue";
import { PERMS } from "./perms";

function servicePerms(): string[] {
  const dts = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../api/access.d.ts"), "utf8");
  const union = /^\s+Perm: (.+);$/m.exec(dts);
  if (!union) throw new Error("no Perm enum in api/access.d.ts");
  return [...union[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
}

describe("the permission catalogue of menus and buttons", () => {
  it("names only permissions the services declare", () => {
    const declared = new Set(servicePerms());
    expect(declared.size).toBeGreaterThan(30);
    const unknown = namedPermissions().filter((p) => !declared.has(p));
    expect(unknown).toEqual([]);
  });

  it("the console's permission list is the services' enum, in order", () => {
    expect([...PERMS]).toEqual(servicePerms());
  });

  it("every screen has its entry, and every entry a screen", () => {
    expect(SCREENS.map((s) => s.path).sort()).toEqual(Object.keys(MENU).sort());
  });

  it("an action needs its one permission, or any one of its list", () => {
    const holds = (...perms: string[]) => (p: string) => perms.includes(p);
    expect(meets(ACTIONS["access.staff.exit"], holds("AuditRead"))).toBe(false);
    expect(meets(ACTIONS["access.staff.exit"], holds("AccessManage"))).toBe(true);
    expect(meets(ACTIONS["customers.select"], holds("CustomerWrite"))).toBe(true);
    expect(meets(ACTIONS["customers.select"], holds("TaskWrite"))).toBe(false);
    expect(meets(MENU["/"], holds())).toBe(true);
    expect(meets(MENU["/access/staff"], holds("AuditRead"))).toBe(true);
  });

  it("every tab of the User CRM and the customer drawer has its entry, and every entry a tab", () => {
    const usercrm = ["panel", ...INFO_TABS, "accounts", "allocations", "statement"].map((x) => `usercrm.tab.${x}`);
    const drawer = DRAWER_TABS.map((x) => `customers.tab.${x}`);
    expect(Object.keys(TABS).sort()).toEqual([...usercrm, ...drawer].sort());
    const holds = (...perms: string[]) => (p: string) => perms.includes(p);
    expect(meets(TABS["usercrm.tab.banking"], holds("UserTabGeneral"))).toBe(false);
    expect(meets(TABS["usercrm.tab.banking"], holds("UserTabBanking"))).toBe(true);
    expect(meets(TABS["usercrm.tab.statement"], holds("UserReportsRead"))).toBe(true);
    expect(meets(TABS["customers.tab.messages"], holds())).toBe(false);
    expect(meets(TABS["customers.tab.basic"], holds())).toBe(true);
  });

  it("every request button of the User CRM panel has its action", () => {
    for (const k of ["message", "block", "unblock", "reset", "account", "deposit", "withdraw", "allocation"]) {
      expect(Object.keys(ACTIONS)).toContain(`usercrm.${k}`);
    }
  });
});
