// My Dashboard.
export const dashboardEn = {
  "menu.dashboard": "My Dashboard",
  "dashboard.title": "My Dashboard",
  "dashboard.cards": "Lifecycle stages of my customers",
  "dashboard.onlyMine": "Only customers assigned to me",
  "dashboard.customersIn": "Customers: {stage}",
} as const;

export const dashboardZh: Record<keyof typeof dashboardEn, string> = {
  "menu.dashboard": "我的看板",
  "dashboard.title": "我的看板",
  "dashboard.cards": "我的客户所处的生命周期阶段",
  "dashboard.onlyMine": "仅看分配给我的客户",
  "dashboard.customersIn": "客户：{stage}",
};
