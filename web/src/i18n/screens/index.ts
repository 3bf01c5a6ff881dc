// The dictionaries of the screens after Home and Customer List, one file per screen, merged into en/zh.
import { tasksEn, tasksZh } from "./tasks";

export const screensEn = {
  ...tasksEn,
} as const;

export const screensZh: Record<keyof typeof screensEn, string> = {
  ...tasksZh,
};
