// The console's screens: one entry per route. A screen's page is its own lazily loaded chunk; the menu
// shows the screens the signed-in role's permissions allow (the API stays the authority).
// To add a screen: write pages/<area>/<Name>Page.tsx (default export), add an entry here and its permission to
// MENU in auth/catalogue.ts.
import { HomeOutlined, TeamOutlined } from "@ant-design/icons";
import { SCREENS_MORE } from "./routes.more";
import { lazy, type ComponentType, type LazyExoticComponent, type ReactNode } from "react";
import type { QueryClient } from "@tanstack/react-query";
import { MENU, meets, type MenuPath } from "../auth/catalogue";
import type { Perm } from "../auth/perms";
import { prefetchCustomerList } from "../pages/customers/listQueries";
import type { MessageKey } from "../i18n/en";

export interface Screen {
  /** the permission(s) needed to see the menu entry and open the page: MENU[path] in auth/catalogue.ts */
  path: MenuPath;
  labelKey: MessageKey;
  icon: ReactNode;
  page: LazyExoticComponent<ComponentType>;
  /** listed in the side menu (a detail page reached by click-through is not) */
  inMenu?: boolean;
  /** starts the page's first requests from the URL while its chunk loads (kept out of the chunk) */
  prefetch?: (qc: QueryClient, params: URLSearchParams) => void;
}

export const SCREENS: Screen[] = [
  { path: "/", labelKey: "menu.home", icon: <HomeOutlined />, inMenu: true,
    page: lazy(() => import("../pages/home/HomePage")) },
  { path: "/customers", labelKey: "menu.customers", icon: <TeamOutlined />, inMenu: true,
    page: lazy(() => import("../pages/customers/CustomerListPage")), prefetch: prefetchCustomerList },
  ...SCREENS_MORE,
];

export function screenAllowed(s: Screen, can: (p: Perm) => boolean): boolean {
  return meets(MENU[s.path], can);
}

export function allowedScreens(can: (p: Perm) => boolean, screens: Screen[] = SCREENS): Screen[] {
  return screens.filter((s) => screenAllowed(s, can));
}
