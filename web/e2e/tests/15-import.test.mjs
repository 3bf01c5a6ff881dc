// Manual import: an admin (CustomerImport) uploads a small CSV with one bad row on the Import screen; the
// progress goes to done, the rejected-rows report lists the bad row, and the imported customers appear in the
// Customer List with source "Manual import". An institution added on the Institutions screen is accepted in an
// import row's institution_id, an unknown one is rejected.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, eventually, page, shot, signIn, useBrowser } from "../browser.mjs";

useBrowser();

const RUN = Date.now().toString(36).toUpperCase(); // a new file (content hash) on every run
const HEADER = "customer_id,name,phone_dialing_code,phone_number,email,id_type,id_number,date_of_birth";
const rows = [
  `E2E-${RUN}-1,Ivy Import,+852,61234567,ivy.${RUN}@example.com,passport,P${RUN}1,1988-04-05`,
  `E2E-${RUN}-2,Bad Email,+852,61234568,not-an-email,passport,P${RUN}2,1990-01-01`,
  `E2E-${RUN}-3,Kit Import,+852,61234569,kit.${RUN}@example.com,national_id,N${RUN}3,1979-11-12`,
];

test("an admin imports a CSV: progress to done, the bad row in the report, the customers in the list", async () => {
  await signIn(page, "admin");
  await page.goto(new URL("/imports", CONSOLE).href);
  await page.getByTestId("import-choose").waitFor();
  await page.locator("input[type=file]").setInputFiles({
    name: `e2e-${RUN}.csv`, mimeType: "text/csv", buffer: Buffer.from([HEADER, ...rows].join("\n") + "\n"),
  });
  const status = page.getByTestId("import-status");
  await eventually(async () => /Done/.test((await status.textContent()) ?? ""),
    { timeout: 120_000, interval: 1_000, message: "the import done" });
  assert.match((await status.textContent()) ?? "", /3 rows read, 2 accepted, 1 rejected/);
  await shot(page, "import", "en");

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("import-report").click()]);
  const report = Buffer.concat(await (await download.createReadStream()).toArray()).toString();
  assert.deepEqual(report.trim().split(/\r?\n/), ["row,field,reason", "3,email,invalid_format"]);
  assert.ok(!report.includes("not-an-email"), "the report carries no value of the file");

  const table = page.locator("[data-testid=customer-table] tbody tr[data-row-key]");
  for (const id of [`E2E-${RUN}-1`, `E2E-${RUN}-3`]) {
    await eventually(async () => {
      await page.goto(new URL(`/customers?q=${id}`, CONSOLE).href);
      await page.getByTestId("customer-table").waitFor();
      await page.waitForLoadState("networkidle").catch(() => undefined);
      return (await table.count()) === 1 && (await table.first().getAttribute("data-row-key")) === id;
    }, { timeout: 60_000, interval: 2_000, message: `${id} in the Customer List` });
    assert.match((await table.first().textContent()) ?? "", /Manual import/);
  }
  await page.goto(new URL(`/customers?q=E2E-${RUN}-2`, CONSOLE).href);
  await page.getByTestId("customer-table").waitFor();
  await page.waitForLoadState("networkidle").catch(() => undefined);
  assert.equal(await table.count(), 0, "the rejected row was not imported");
});

test("an admin adds an institution on the Institutions screen; an import row naming it is accepted, one naming an unknown institution is not", async () => {
  const inst = `E2E-INST-${RUN}`;
  await signIn(page, "admin");
  await page.goto(new URL("/institutions", CONSOLE).href);
  await page.getByTestId("institution-add").click();
  const dialog = page.getByRole("dialog", { name: "Add institution" });
  await dialog.getByLabel("Institution id").fill(inst);
  await dialog.getByLabel("Name").fill(`E2E Institution ${RUN}`);
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "hidden" });
  await eventually(async () => {
    await page.goto(new URL("/institutions", CONSOLE).href);
    await page.getByTestId("institutions-table").waitFor();
    await page.waitForLoadState("networkidle").catch(() => undefined);
    return (await page.getByTestId("institutions-table").getByText(`E2E Institution ${RUN}`).count()) === 1;
  }, { timeout: 30_000, interval: 1_000, message: "the institution listed" });

  // the import checks a row's institution_id against the service's institutions
  const header = "customer_id,name,email,institution_id";
  const file = (n) => [header, `E2E-${RUN}-I${n},Inez Institution,inez${n}.${RUN}@example.com,${inst}`,
    `E2E-${RUN}-U${n},Una Unknown,una${n}.${RUN}@example.com,E2E-NOPE-${RUN}`].join("\n") + "\n";
  await page.goto(new URL("/imports", CONSOLE).href);
  await page.getByTestId("import-choose").waitFor();
  await page.locator("input[type=file]").setInputFiles({ name: `e2e-inst-${RUN}.csv`, mimeType: "text/csv", buffer: Buffer.from(file(1)) });
  const status = page.getByTestId("import-status");
  await eventually(async () => /Done/.test((await status.textContent()) ?? ""),
    { timeout: 120_000, interval: 1_000, message: "the import done" });
  assert.match((await status.textContent()) ?? "", /2 rows read, 1 accepted, 1 rejected/);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("import-report").click()]);
  const report = Buffer.concat(await (await download.createReadStream()).toArray()).toString();
  assert.deepEqual(report.trim().split(/\r?\n/), ["row,field,reason", "3,institution_id,unknown_value"]);

  const table = page.locator("[data-testid=customer-table] tbody tr[data-row-key]");
  await eventually(async () => {
    await page.goto(new URL(`/customers?q=E2E-${RUN}-I1`, CONSOLE).href);
    await page.getByTestId("customer-table").waitFor();
    await page.waitForLoadState("networkidle").catch(() => undefined);
    return (await table.count()) === 1 && (await table.first().getAttribute("data-row-key")) === `E2E-${RUN}-I1`;
  }, { timeout: 60_000, interval: 2_000, message: "the institution's customer in the Customer List" });
  assert.match((await table.first().textContent()) ?? "", /Manual import/);
});
