import type { Scope } from "../../auth/perms";
import type { TaskView } from "../../services/tasks";

/** The task views a data scope may ask for (the tasks API answers 403 for the others). */
export function viewsFor(scope: Scope | undefined): TaskView[] {
  if (scope === "all") return ["mine", "team", "queue", "all"];
  if (scope === "team") return ["mine", "team", "queue"];
  return ["mine"];
}
