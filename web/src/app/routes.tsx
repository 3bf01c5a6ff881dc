// The console's screens: one entry per route. A screen's page is its own lazily loaded chunk; the menu
// shows the screens the signed-in role's permissions allow (the API stays the authority).
// To add a screen: write pages/<area>/<Name>Page.tsx (default export) and add an entry here.
import { HomeOutlined, TeamOutlined } from "@ant-design/icons";
import { SCREENS_MORE } from "./routes.more";
import { lazy, type ComponentType, type LazyExoticComponent, type ReactNode } from "react";
import type { QueryClient } from "@tanstack/react-query";
import type { Perm } from "../auth/perms";
import { prefetchCustomerList } from "../pages/customers/listQueries";
import type { MessageKey } from "../i18n/en";

export interface Screen {
  path: string;
  labelKey: MessageKey;
  icon: ReactNode;
  /** permission needed to see the menu entry and open the page (null: every signed-in user) */
  perm: Perm | null;
  /** or: any one of these permissions (a screen several roles reach through different permissions) */
  anyPerm?: Perm[];
  page: LazyExoticComponent<ComponentType>;
  /** listed in the side menu (a detail page reached by click-through is not) */
  inMenu?: boolean;
  /** starts the page's first requests from the URL while its chunk loads (kept out of the chunk) */
  prefetch?: (qc: QueryClient, params: URLSearchParams) => void;
}

export const SCREENS: Screen[] = [
  { path: "/", labelKey: "menu.home", icon: <HomeOutlined />, perm: null, inMenu: true,
    page: lazy(() => import("../pages/home/HomePage")) },
  { path: "/customers", labelKey: "menu.customers", icon: <TeamOutlined />, perm: "ClientProfileReadOnly", inMenu: true,
    page: lazy(() => import("../pages/customers/CustomerListPage")), prefetch: prefetchCustomerList },
  ...SCREENS_MORE,
];

export function screenAllowed(s: Screen, can: (p: Perm) => boolean): boolean {
  if (s.anyPerm) return s.anyPerm.some(can);
  return s.perm === null || can(s.perm);
}

export function allowedScreens(can: (p: Perm) => boolean, screens: Screen[] = SCREENS): Screen[] {
  return screens.filter((s) => screenAllowed(s, can));
}
