import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MENU, type Need } from "../auth/catalogue";
import type { Role } from "../auth/perms";
import { mockFetch, renderWith } from "../test/render";
import { ROLE_PERMS } from "../test/roles";
import { AppLayout } from "./AppLayout";
import { allowedScreens, SCREENS } from "./routes";

function menu(): string[] {
  return screen.getAllByRole("menuitem").map((el) => el.textContent ?? "");
}

describe("permission-aware menus", () => {
  const STAFF = ["Tasks", "Wealth calendar", "My Dashboard", "Today's Summary"];
  const SETUP = ["Account Managers", "Teams and Rules", "Institutions"];
  const LEAD_SETUP = ["Account Managers", "Teams and Rules", "Team Pool", "Institutions"];
  const SERVICE = ["Tickets", "Comments"];
  const END = ["User CRM", "Analytics", "Match review"];
  const CAMPAIGNS = ["Campaigns"];
  const ACCESS = ["Roles and permissions", "Organisation", "Staff"];
  it.each<[Role, string[]]>([
    ["admin", ["Home", "Customer List", ...STAFF, "KYC review", ...LEAD_SETUP, ...SERVICE, ...END, ...CAMPAIGNS, "Import", "Audit log", ...ACCESS]],
    ["team_lead", ["Home", "Customer List", ...STAFF, ...LEAD_SETUP, ...SERVICE, ...END, ...CAMPAIGNS]],
    ["manager", ["Home", "Customer List", ...STAFF, ...SETUP, ...SERVICE, ...END, ...CAMPAIGNS]],
    ["auditor", ["Home", "Customer List", ...STAFF, ...SETUP, ...END, ...CAMPAIGNS, "Audit log", ...ACCESS]],
    ["kyc_reviewer", ["Home", "Customer List", ...STAFF, "KYC review", ...SETUP, ...END]],
    ["operator", ["Home"]],
  ])("%s sees %j", (role, expected) => {
    mockFetch({});
    renderWith(<AppLayout />, { role });
    expect(menu()).toEqual(expected);
    expect(screen.getByTestId("whoami")).toHaveTextContent(`u-${role}`);
  });

  it("a screen is allowed exactly when the role holds its permission", () => {
    for (const [role, perms] of Object.entries(ROLE_PERMS)) {
      const can = (p: string) => perms.includes(p as never);
      const allowed = allowedScreens(can).map((s) => s.path);
      const holds = (p: string) => perms.includes(p as never);
      // the catalogue's need: any one of a list, else its one permission (or for everyone)
      const expected = SCREENS.filter((s) => {
        const need: Need = MENU[s.path];
        return need === null || (typeof need === "string" ? holds(need) : need.some(holds));
      });
      expect(allowed, role).toEqual(expected.map((s) => s.path));
    }
  });

  it("speaks Chinese when the language is zh", () => {
    mockFetch({});
    renderWith(<AppLayout />, { role: "manager", lang: "zh" });
    expect(menu()).toEqual(["首页", "客户池", "任务", "财富日历", "我的看板", "今日小结", "客户经理管理", "团队与规则", "机构", "工单", "评论",
      "用户 CRM", "数据分析", "客户匹配审核", "营销活动"]);
  });
});
