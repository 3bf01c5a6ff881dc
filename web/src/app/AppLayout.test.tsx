import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Role } from "../auth/perms";
import { mockFetch, renderWith } from "../test/render";
import { ROLE_PERMS } from "../test/roles";
import { AppLayout } from "./AppLayout";
import { allowedScreens, SCREENS } from "./routes";

function menu(): string[] {
  return screen.getAllByRole("menuitem").map((el) => el.textContent ?? "");
}

describe("permission-aware menus", () => {
  it.each<[Role, string[]]>([
    ["admin", ["Home", "Customer List"]],
    ["team_lead", ["Home", "Customer List"]],
    ["manager", ["Home", "Customer List"]],
    ["auditor", ["Home", "Customer List"]],
    ["kyc_reviewer", ["Home", "Customer List"]],
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
      expect(allowed, role).toEqual(SCREENS.filter((s) => s.perm === null || perms.includes(s.perm)).map((s) => s.path));
    }
  });

  it("speaks Chinese when the language is zh", () => {
    mockFetch({});
    renderWith(<AppLayout />, { role: "manager", lang: "zh" });
    expect(menu()).toEqual(["首页", "客户池"]);
  });
});
