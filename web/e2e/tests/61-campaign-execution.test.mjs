// Campaigns, execution and evaluation: a team lead's campaign (planned through the API, with SMS and e-mail
// messages the console's form does not offer), approved by a peer — a second team lead of the same team, made a
// staff member through the access API, whose token is minted with the development secret (`python -m ops
// token`: the development sign-in has one team lead) — is started from
// the console's drawer; the drawer then shows the execution board (targets, counts, the demo platform's
// delivery results as they arrive) and the evaluation (indicators after "Recompute now", the cost saved, the
// input-output ratio); the reports and the side-by-side comparison render and download their CSV.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { CONSOLE, eventually, page, signIn, useBrowser } from "../browser.mjs";

useBrowser();

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const python = existsSync(join(root, ".venv/bin/python")) ? join(root, ".venv/bin/python") : "python3";

/** A development token (`python -m ops token`), signed with the stack's development secret. */
function mint(role, user, team) {
  const r = spawnSync(python, ["-m", "ops", "token", "--role", role, "--user", user, ...(team ? ["--team", team] : [])], { cwd: root, encoding: "utf8" });
  assert.equal(r.status, 0, `ops token: ${r.stderr}`);
  return r.stdout.trim();
}

// the console's team lead (devtools/devsignin.py) and a peer: the same level, the same team
const PEER_ID = "M-HK-LEAD-2";
const CREATOR = mint("team_lead", "M-HK-LEAD", "T-HK");
const PEER = mint("team_lead", PEER_ID, "T-HK");
const ADMIN = mint("admin", "admin-1", null);

async function call(service, token, method, path, body) {
  return fetch(new URL(`/api/${service}${path}`, CONSOLE), {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
}

async function api(token, method, path, body) {
  const res = await call("campaigns", token, method, path, body);
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Planned by the team lead, submitted, approved by the peer: an approved campaign starting tomorrow (the
 * scheduler does not start it first: the test does). */
async function approvedCampaign(name) {
  const now = Date.now();
  const plan = {
    name, purpose: "e2e: execution and evaluation",
    start_at: new Date(now + 86_400_000).toISOString(), end_at: new Date(now + 8 * 86_400_000).toISOString(),
    audience: { stages: [], tags: [] }, distribution: "assigned_manager", team_id: null,
    channels: ["phone", "sms", "email"], metrics: ["account_opened", "funded"], attribution_window_days: 30,
    messages: [
      { channel: "sms", template_id: "tpl-e2e-sms", body: "Your account is ready for its first deposit." },
      { channel: "email", template_id: "tpl-e2e-mail", subject: "Welcome", body: "Your account is ready for its first deposit." },
    ],
  };
  const created = await api(CREATOR, "POST", "/campaigns", plan);
  const id = created.campaign_id;
  await api(CREATOR, "POST", `/campaigns/${id}/submit`);
  // the services take who may do what from the access directory: the peer's record reaches the campaigns
  // service's copy a moment after it is made (401 until then)
  const reviewed = await eventually(async () => {
    const res = await call("campaigns", PEER, "POST", `/campaigns/${id}/review`, { decision: "approve", comment: "peer review (e2e)" });
    if (res.status === 401) return false;
    const text = await res.text();
    assert.equal(res.status, 200, text);
    return JSON.parse(text);
  }, { timeout: 90_000, interval: 2_000, message: "the peer's approval" });
  assert.equal(reviewed.status, "approved");
  return id;
}

async function download(click) {
  const [file] = await Promise.all([page.waitForEvent("download", { timeout: 60_000 }), click()]);
  return readFileSync(await file.path(), "utf8");
}

const count = async (status) => Number((await page.getByTestId(`count-${status}`).locator(".ant-statistic-content-value").innerText()).replace(/\D/g, ""));

test("a peer-approved campaign started from the console: execution board, evaluation, reports", async () => {
  const tag = Date.now().toString(36);
  const nameA = `E2E execution A ${tag}`;
  const nameB = `E2E execution B ${tag}`;
  // the audience facts reach the service as it consumes the demo platform's customers: wait for a non-empty audience
  await eventually(async () => (await api(CREATOR, "POST", "/campaigns/audience/preview", { stages: [], tags: [] })).size > 0,
    { timeout: 180_000, interval: 2_000, message: "a non-empty audience" });
  // the peer: a second team lead of the Hong Kong team, made a staff member by the head of client services
  // (the demo organisation has one team lead per team); 409: made by an earlier run on this stack
  const made = await call("access", ADMIN, "POST", "/access/staff", { staff_id: PEER_ID, display_name: "Second HK team lead (e2e)", node_id: "T-HK" });
  assert.ok([200, 201, 409].includes(made.status), `POST /access/staff: ${made.status} ${await made.text()}`);
  const held = await (await call("access", ADMIN, "GET", `/access/staff/${PEER_ID}`)).json();
  if (!held.assignments.some((a) => a.role_id === "team_lead")) {
    const role = await call("access", ADMIN, "POST", `/access/staff/${PEER_ID}/roles`, { role_id: "team_lead" });
    assert.ok([200, 201].includes(role.status), `POST /access/staff/${PEER_ID}/roles: ${role.status} ${await role.text()}`);
  }
  const idA = await approvedCampaign(nameA);
  const idB = await approvedCampaign(nameB);

  await signIn(page, "team_lead");
  await page.goto(new URL("/campaigns", CONSOLE).href);
  await page.getByRole("button", { name: nameA }).click();
  await page.getByTestId("campaign-status").filter({ hasText: "Approved" }).waitFor();
  await page.getByTestId("history-approved").filter({ hasText: "M-HK-LEAD-2" }).waitFor(); // the peer's approval
  await page.getByTestId("campaign-start").click();
  await page.getByTestId("campaign-status").filter({ hasText: "Running" }).waitFor({ timeout: 60_000 });
  await page.getByTestId("history-started").waitFor();

  // the execution board: the frozen audience, its targets with their owner and status
  const board = page.getByTestId("campaign-execution");
  await board.waitFor({ timeout: 60_000 });
  const started = await api(CREATOR, "GET", `/campaigns/${idA}`);
  assert.ok(started.audience_size > 0, "the audience is frozen with its size");
  const rows = board.locator("[data-testid=campaign-targets] tbody tr[data-row-key]");
  await rows.first().waitFor({ timeout: 60_000 });
  assert.ok(await rows.count() > 0);
  const statuses = await board.locator("[data-testid^=target-status-]").allInnerTexts();
  assert.ok(statuses.every((s) => /^(Targeted|Contacted|Reached|Interested|Declined|Converted)$/.test(s)), statuses.join(","));
  // the demo platform's delivery results arrive (the scheduler sends the outreach on its tick; the board polls)
  await eventually(async () => (await board.getByText(/^(SMS|E-mail): (delivered|opened|failed)$/).count()) > 0,
    { timeout: 240_000, interval: 2_000, message: "a delivery result on the execution board" });
  await eventually(async () => (await count("contacted")) + (await count("reached")) > 0,
    { timeout: 120_000, interval: 2_000, message: "contacted targets counted" });
  // each target counted once, under its furthest status (the counts follow the consumed events)
  await eventually(async () => (await Promise.all(["targeted", "contacted", "reached", "interested", "declined", "converted"].map(count)))
    .reduce((a, b) => a + b, 0) === started.audience_size, { timeout: 60_000, interval: 2_000, message: "the counts sum to the audience" });

  // evaluation: indicators on demand, the cost input, the ratio
  const evaluation = page.getByTestId("campaign-evaluation");
  await evaluation.waitFor();
  await page.getByTestId("eval-refresh").click();
  await eventually(async () => Number(await page.getByTestId("eval-targeted").innerText()) === started.audience_size,
    { timeout: 60_000, message: "the recomputed indicators" });
  await evaluation.getByRole("spinbutton", { name: "Cost" }).fill("2500");
  await page.getByTestId("eval-cost-save").click();
  await evaluation.getByText("2,500 HKD").waitFor({ timeout: 60_000 });
  await eventually(async () => /^-?\d+(\.\d+)?$/.test((await page.getByTestId("eval-ratio").innerText()).trim()),
    { timeout: 60_000, message: "an input-output ratio" });
  await page.getByTestId("history-cost_recorded").waitFor({ timeout: 60_000 });
  const indicatorsCsv = await download(() => page.getByTestId("eval-csv").click());
  assert.match(indicatorsCsv.split("\n")[0], /^dimension,key,/);

  // the other campaign started through the API and recomputed: the reports and the side-by-side comparison
  await api(CREATOR, "POST", `/campaigns/${idB}/start`);
  await api(CREATOR, "POST", `/campaigns/${idB}/indicators/refresh`);
  await page.keyboard.press("Escape");
  await page.reload();
  const reports = page.getByTestId("campaign-reports");
  await eventually(async () => (await reports.locator("[data-testid=report-table] tbody tr[data-row-key]").count()) > 0,
    { timeout: 60_000, message: "a report row" });
  const reportCsv = await download(() => page.getByTestId("report-csv").click());
  const [header, ...lines] = reportCsv.trim().split(/\r?\n/);
  assert.match(header, /^manager,campaigns,targeted,/);
  assert.ok(lines.length > 0, "the report's CSV has rows");

  await page.getByRole("checkbox", { name: nameA }).check();
  await page.getByRole("checkbox", { name: nameB }).check();
  await page.getByTestId("campaign-compare").click();
  const compare = page.getByTestId("compare-table");
  await compare.getByText(nameA).waitFor();
  await compare.getByText(nameB).waitFor();
  const compareCsv = await download(() => page.getByRole("dialog").getByRole("button", { name: "Download CSV" }).click());
  assert.match(compareCsv.split("\n")[0], /^campaign_id,name,/);
  assert.ok(compareCsv.includes(idA) && compareCsv.includes(idB), "both campaigns in the comparison's CSV");
});
