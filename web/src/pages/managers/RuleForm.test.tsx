import { fireEvent, screen, waitFor } from "@testing-library/react";
import { Form } from "antd";
import { describe, expect, it } from "vitest";
import type { Team } from "../../services/assignment";
import type { Segment } from "../../services/customers";
import type { Institution } from "../../services/institutions";
import { renderWith } from "../../test/render";
import { RuleForm, toRuleBody, type RuleValues } from "./RuleForm";

const INSTITUTIONS: Institution[] = [
  { institution_id: "INST-A", name: "Alpha Securities", created_at: "", updated_at: "" },
  { institution_id: "INST-B", name: "Beta Bank", created_at: "", updated_at: "" },
];

const SEGMENTS: Segment[] = [
  { segment_id: "seg1", name: "Mass affluent", kind: "dynamic", filter: { asset_band: ["100000-1000000"] }, owner_id: "u", created_at: "", updated_at: "", count: 12 },
  { segment_id: "seg2", name: "VIP list", kind: "static", filter: null, owner_id: "u", created_at: "", updated_at: "", count: 3 },
];

let values: RuleValues | null = null;
const TEAMS: Team[] = [{ team_id: "T-HK", name: "HK desk", leader_id: null, protection_days: 7, changed_at: "" }];
let failed = false;
function Harness({ teams = [] }: { teams?: Team[] }) {
  const [form] = Form.useForm<RuleValues>();
  return (
    <>
      <RuleForm form={form} existing={false} teams={teams} managers={[]} institutions={INSTITUTIONS} segments={SEGMENTS} />
      <button type="button" onClick={() => void form.validateFields().then((v) => { values = v; }, () => { failed = true; })}>check</button>
    </>
  );
}

describe("the routing rule form", () => {
  it("offers the customer service's institutions as a condition and sends the chosen ids", async () => {
    values = null;
    renderWith(<Harness />, { role: "admin" });
    fireEvent.change(screen.getByLabelText("Rule id"), { target: { value: "inst-rule" } });
    fireEvent.mouseDown(screen.getByRole("combobox", { name: "Institutions" }));
    fireEvent.click(await screen.findByText("Beta Bank (INST-B)"));
    fireEvent.click(screen.getByRole("button", { name: "check" }));
    await waitFor(() => expect(values).not.toBeNull());
    const body = toRuleBody(values as unknown as RuleValues);
    expect(body.institutions).toEqual(["INST-B"]);
    expect(body).not.toHaveProperty("rule_id");
  });

  it("allocates to the team's pool only with a team, and sends allocation team_pool", async () => {
    values = null;
    failed = false;
    renderWith(<Harness teams={TEAMS} />, { role: "admin" });
    fireEvent.change(screen.getByLabelText("Rule id"), { target: { value: "hk-pool" } });
    fireEvent.mouseDown(screen.getByRole("combobox", { name: "Allocation" }));
    fireEvent.click(await screen.findByText("To the team's pool (the lead distributes)"));
    fireEvent.click(screen.getByRole("button", { name: "check" }));
    await waitFor(() => expect(failed).toBe(true));
    fireEvent.mouseDown(screen.getByRole("combobox", { name: "Team" }));
    fireEvent.click(await screen.findByText("HK desk"));
    fireEvent.click(screen.getByRole("button", { name: "check" }));
    await waitFor(() => expect(values).not.toBeNull());
    const body = toRuleBody(values as unknown as RuleValues);
    expect([body.allocation, body.team_id, body.manager_id]).toEqual(["team_pool", "T-HK", null]);
  });

  it("offers the saved segments as a condition and sends the chosen ids", async () => {
    values = null;
    renderWith(<Harness />, { role: "admin" });
    fireEvent.change(screen.getByLabelText("Rule id"), { target: { value: "seg-rule" } });
    fireEvent.mouseDown(screen.getByRole("combobox", { name: "Segments" }));
    fireEvent.click(await screen.findByText("VIP list (list)"));
    fireEvent.click(screen.getByRole("button", { name: "check" }));
    await waitFor(() => expect(values).not.toBeNull());
    expect(toRuleBody(values as unknown as RuleValues).segments).toEqual(["seg2"]);
  });
});
