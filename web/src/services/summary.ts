// Summary service: the home dashboard (node counts, account opening, shortcuts, changelog).
import { summaryApi } from "../api/clients";
import type { AccountOpening, ChangelogEntry, NodeCounts, Page, Shortcuts } from "./models";

export async function nodeCounts(): Promise<NodeCounts> {
  const { data } = await summaryApi.GET("/dashboard/nodes", {});
  return data as unknown as NodeCounts;
}

export async function accountOpening(from: string, to: string): Promise<AccountOpening> {
  const { data } = await summaryApi.GET("/dashboard/account-opening", { params: { query: { from, to } } });
  return data as unknown as AccountOpening;
}

export async function shortcuts(): Promise<Shortcuts> {
  const { data } = await summaryApi.GET("/dashboard/shortcuts", {});
  return data as unknown as Shortcuts;
}

export async function changelog(): Promise<Page<ChangelogEntry>> {
  const { data } = await summaryApi.GET("/dashboard/changelog", { params: { query: { limit: 10 } } });
  return data as unknown as Page<ChangelogEntry>;
}
