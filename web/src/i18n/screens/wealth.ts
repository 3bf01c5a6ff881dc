// The customer drawer's one call (the service history tab, merged remarks), risk ratings and segments.
export const wealthEn = {
  "drawer.tab.service": "Service history",
  "drawer.service.kyc": "KYC",
  "drawer.service.kycNone": "No KYC case",
  "drawer.service.completion": "Completion",
  "drawer.service.highRisk": "High risk",
  "drawer.service.tickets": "Tickets ({n})",
  "drawer.service.campaigns": "Campaign touches ({n})",
  "drawer.service.requests": "Requests on the user's behalf ({n})",
  "drawer.service.none": "None",
  "drawer.service.due": "due {at}",
  "remark.source.customer": "Customer",
  "remark.source.follow_up": "Follow-up",
} as const;

export const wealthZh: Record<keyof typeof wealthEn, string> = {
  "drawer.tab.service": "服务记录",
  "drawer.service.kyc": "KYC",
  "drawer.service.kycNone": "暂无 KYC 案件",
  "drawer.service.completion": "完成度",
  "drawer.service.highRisk": "高风险",
  "drawer.service.tickets": "工单（{n}）",
  "drawer.service.campaigns": "营销活动触达（{n}）",
  "drawer.service.requests": "代客操作请求（{n}）",
  "drawer.service.none": "无",
  "drawer.service.due": "截止 {at}",
  "remark.source.customer": "客户备注",
  "remark.source.follow_up": "跟进记录",
};
