import { fireEvent, screen, waitFor } from "@testing-library/react";
import { Form } from "antd";
import { describe, expect, it } from "vitest";
import { renderWith } from "../../test/render";
import { DecisionForm, needsReason, type DecisionValues } from "./DecisionForm";

let submitted: DecisionValues | null = null;
function Harness({ initial }: { initial: Partial<DecisionValues> }) {
  const [form] = Form.useForm<DecisionValues>();
  return (
    <>
      <DecisionForm form={form} kind="document" reasons={[{ code: "blurry", label: "Image is blurry" }]} initial={initial} />
      <button onClick={() => void form.validateFields().then((v) => { submitted = v; }, () => undefined)}>go</button>
    </>
  );
}

describe("KYC decision form", () => {
  it("needs a reason for anything but accepting", () => {
    expect(needsReason("accepted")).toBe(false);
    expect(needsReason("approved")).toBe(false);
    expect(needsReason("rejected")).toBe(true);
    expect(needsReason("more_info_requested")).toBe(true);
  });

  it("refuses a rejection without a reason, accepts one with it", async () => {
    submitted = null;
    renderWith(<Harness initial={{ decision: "rejected" }} />, { role: "kyc_reviewer" });
    fireEvent.click(screen.getByText("go"));
    expect(await screen.findByText("Pick a reason")).toBeInTheDocument();
    expect(submitted).toBeNull();
    fireEvent.mouseDown(screen.getByRole("combobox", { name: "Reason" }));
    fireEvent.click(await screen.findByText("Image is blurry"));
    fireEvent.click(screen.getByText("go"));
    await waitFor(() => expect(submitted).toMatchObject({ decision: "rejected", reason_code: "blurry" }));
  });

  it("lets an acceptance through without a reason", async () => {
    submitted = null;
    renderWith(<Harness initial={{ decision: "accepted" }} />, { role: "kyc_reviewer" });
    fireEvent.click(screen.getByText("go"));
    await waitFor(() => expect(submitted).toMatchObject({ decision: "accepted" }));
  });
});
