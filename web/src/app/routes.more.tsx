// The screens after Home and Customer List (their own list, so the two lists rebase apart).
import { CheckSquareOutlined } from "@ant-design/icons";
import { lazy } from "react";
import type { Screen } from "./routes";

export const SCREENS_MORE: Screen[] = [
  { path: "/tasks", labelKey: "menu.tasks", icon: <CheckSquareOutlined />, perm: "ClientProfileReadOnly", inMenu: true,
    page: lazy(() => import("../pages/tasks/TasksPage")) },
];
