// Institutions (customers who come through an institution; import files and routing rules name them).
export const institutionsEn = {
  "menu.institutions": "Institutions",
  "institutions.title": "Institutions",
  "institutions.help": "Customers who come through an institution carry its id (in import files: institution_id); routing rules can match it.",
  "institutions.id": "Institution id",
  "institutions.add": "Add institution",
  "institutions.edit": "Edit {id}",
  "institutions.empty": "No institutions yet",
  "institutions.manager": "Account manager",
  "institutions.team": "Team",
  "institutions.updated": "Updated",
  "rules.institutions": "Institutions",
  "rules.segments": "Segments",
} as const;

export const institutionsZh: Record<keyof typeof institutionsEn, string> = {
  "menu.institutions": "机构",
  "institutions.title": "机构",
  "institutions.help": "通过机构进来的客户带有该机构的编号（导入文件中的 institution_id）；分配规则可以按机构匹配。",
  "institutions.id": "机构编号",
  "institutions.add": "新增机构",
  "institutions.edit": "编辑 {id}",
  "institutions.empty": "暂无机构",
  "institutions.manager": "客户经理",
  "institutions.team": "团队",
  "institutions.updated": "更新时间",
  "rules.institutions": "机构",
  "rules.segments": "客户分组",
};
