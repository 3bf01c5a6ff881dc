import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import dayjs from "dayjs";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWith } from "../../test/render";
import { changeBody } from "./EditDialogs";
import { UserPanel } from "./UserPanel";

const profile = (links: Record<string, string> = {}) => ({
  customer_id: "C-1", completion_pct: 60, missing: [], access: { blocked: false, since: null }, social_links: links,
});
const base = (links: Record<string, string> = {}) => ({
  "GET /api/usercrm/usercrm/customers/C-1/profile": () => profile(links),
  "GET /api/usercrm/usercrm/customers/C-1/requests": () => ({ items: [], next_cursor: null }),
  "GET /api/usercrm/usercrm/customers/C-1/accounts": () => ({ items: [] }),
});
const accepted = () => ({ request_id: "R1", customer_id: "C-1", action: "change_info", state: "submitted" });

describe("the change request's body", () => {
  it("carries only the fields filled in, trimmed and typed", () => {
    expect(changeBody("general", { email: "  ", phone_number: " 91234567 ", city: undefined })).toEqual({ phone_number: "91234567" });
    expect(changeBody("personal", { date_of_birth: dayjs("1990-04-05"), citizenship: "HK" })).toEqual({ date_of_birth: "1990-04-05", citizenship: "HK" });
    expect(changeBody("financial_status", { us_tax_payer: "no", annual_income: "120000" })).toEqual({ us_tax_payer: false, annual_income: "120000" });
    expect(changeBody("financial_experience", { experience_years: 7, qualifications: [" CFA ", ""] })).toEqual({ experience_years: 7, qualifications: ["CFA"] });
    expect(changeBody("general", {})).toBeNull();
    expect(changeBody("bank_account", { bank_account_id: " B2 ", provider: "DBS", kind: "bank", swift: "" })).toEqual({ bank_account_id: "B2", provider: "DBS", kind: "bank" });
  });
});

describe("edit the user's information", () => {
  it("checks the fields against the service's rules, refuses an empty request, then sends one section", async () => {
    const seen = mockFetch({ ...base(), "POST /api/usercrm/usercrm/customers/C-1/change-requests": accepted });
    renderWith(<UserPanel customerId="C-1" />, { role: "manager" });
    fireEvent.click(await screen.findByTestId("user-edit-info"));
    const dialog = await screen.findByRole("dialog", { name: "Edit information" });
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    expect(await within(dialog).findByText("Fill in at least one field")).toBeInTheDocument();
    fireEvent.change(within(dialog).getByLabelText("Phone number"), { target: { value: "12-34" } });
    fireEvent.change(within(dialog).getByLabelText("Country / region"), { target: { value: "hk" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    expect(await within(dialog).findByText("4 to 15 digits")).toBeInTheDocument();
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(0);
    fireEvent.change(within(dialog).getByLabelText("Phone number"), { target: { value: "91234567" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(seen.find((r) => r.method === "POST")?.body).toEqual({ general: { phone_number: "91234567", country: "HK" } }));
    expect(seen.find((r) => r.method === "POST")!.headers.get("Idempotency-Key")).toBeTruthy();
  });

  it("the bank account section needs its id and provider and checks the SWIFT code", async () => {
    const seen = mockFetch({ ...base(), "POST /api/usercrm/usercrm/customers/C-1/change-requests": accepted });
    renderWith(<UserPanel customerId="C-1" />, { role: "manager" });
    fireEvent.click(await screen.findByTestId("user-edit-info"));
    const dialog = await screen.findByRole("dialog", { name: "Edit information" });
    fireEvent.mouseDown(within(dialog).getByRole("combobox", { name: "Section" }));
    fireEvent.click(await screen.findByTitle("Banking"));
    fireEvent.change(await within(dialog).findByLabelText("Account number / IBAN"), { target: { value: "998877665544" } });
    fireEvent.change(within(dialog).getByLabelText("SWIFT / BIC"), { target: { value: "dbss" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(within(dialog).getAllByText("Required")).toHaveLength(2));
    expect(within(dialog).getByText("8 or 11 letters or digits")).toBeInTheDocument();
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(0);
    fireEvent.change(within(dialog).getByLabelText("Bank account id"), { target: { value: "B2" } });
    fireEvent.change(within(dialog).getByLabelText("Bank or payment system"), { target: { value: "DBS" } });
    fireEvent.change(within(dialog).getByLabelText("SWIFT / BIC"), { target: { value: "dbsssgsg" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(seen.find((r) => r.method === "POST")?.body).toEqual({
      bank_account: { bank_account_id: "B2", provider: "DBS", account_number: "998877665544", swift: "DBSSSGSG" },
    }));
  });

  it("is offered only with UserInfoEdit", async () => {
    mockFetch(base());
    renderWith(<UserPanel customerId="C-1" />, { role: "auditor" });
    await screen.findByTestId("user-panel");
    expect(screen.queryByTestId("user-edit-info")).toBeNull();
    expect(screen.queryByTestId("user-edit-social")).toBeNull();
  });
});

describe("edit the social links", () => {
  it("starts from the current links, checks network and https link, refuses a network twice, then replaces the set", async () => {
    const seen = mockFetch({ ...base({ linkedin: "https://www.linkedin.com/in/ann" }), "PUT /api/usercrm/usercrm/customers/C-1/social-links": accepted });
    renderWith(<UserPanel customerId="C-1" />, { role: "manager" });
    fireEvent.click(await screen.findByTestId("user-edit-social"));
    const dialog = await screen.findByRole("dialog", { name: "Edit social links" });
    expect(within(dialog).getByTestId("social-network-0")).toHaveValue("linkedin");
    fireEvent.click(within(dialog).getByTestId("social-add"));
    fireEvent.change(await within(dialog).findByTestId("social-network-1"), { target: { value: "LinkedIn" } });
    fireEvent.change(within(dialog).getByTestId("social-url-1"), { target: { value: "http://x.example/ann" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    expect(await within(dialog).findByText("An https:// link")).toBeInTheDocument();
    await waitFor(() => expect(within(dialog).getAllByText("Each network once")).toHaveLength(2)); // both rows
    expect(seen.filter((r) => r.method === "PUT")).toHaveLength(0);
    fireEvent.change(within(dialog).getByTestId("social-network-1"), { target: { value: "x_com" } });
    fireEvent.change(within(dialog).getByTestId("social-url-1"), { target: { value: "https://x.com/ann" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Submit" }));
    await waitFor(() => expect(seen.find((r) => r.method === "PUT")?.body).toEqual({
      links: { linkedin: "https://www.linkedin.com/in/ann", x_com: "https://x.com/ann" },
    }));
  });
});
