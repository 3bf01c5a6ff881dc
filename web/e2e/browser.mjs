// playwright-core driving Debian's chromium (browsers are not downloaded), headless, fresh profile.
import AxeBuilder from "@axe-core/playwright";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

export const CONSOLE = process.env.WHALE_CONSOLE_URL ?? "http://127.0.0.1:8100/";
export const SHOTS = process.env.WHALE_SCREENSHOTS ?? "../var/screenshots";
const EXECUTABLE = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), "whale-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: EXECUTABLE,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 860 },
    locale: "en-US",
    timezoneId: "Asia/Hong_Kong",
    acceptDownloads: true,
  });
  context.setDefaultTimeout(45_000); // a loaded CI machine
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/** This test file's page: `useBrowser()` launches a fresh browser before the file's tests and closes it after
 * them; `page` (a live binding) is its first tab. */
export let page;

export function useBrowser() {
  let browser;
  before(async () => {
    browser = await launch();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
  });
  after(async () => browser?.close());
}

/** Development sign-in as a demo role, in a language (the console keeps it in localStorage). */
export async function signIn(page, role, lang = "en") {
  await page.goto(new URL("/signin", CONSOLE).href);
  await page.evaluate((l) => { localStorage.setItem("whale.lang", l); sessionStorage.clear(); }, lang);
  await page.reload();
  await page.getByTestId(`signin-${role}`).click();
  await page.getByTestId("whoami").waitFor();
}

/** Every finite animation on the page has finished (a dialog's zoom and its mask's fade: axe measures the
 * colours of a dialog still fading in as too pale). */
export async function animationsDone(page) {
  // antd's motion (rc-motion) first marks the element `*-appear/enter-prepare` and starts the CSS animation a
  // frame later: wait until no element is in a motion phase, then for the animations that are running
  await page.waitForFunction(() => ![...document.querySelectorAll("[class*='-appear'], [class*='-enter'], [class*='-leave']")]
    .some((el) => /(^|\s)ant-[\w-]+-(appear|enter|leave)(-(prepare|start|active))?(\s|$)/.test(el.getAttribute("class") ?? "")),
  null, { timeout: 10_000 }).catch(() => undefined);
  await page.evaluate(() => Promise.all(document.getAnimations()
    .filter((a) => a.effect?.getComputedTiming().iterations !== Infinity)
    .map((a) => a.finished.catch(() => undefined))));
}

/** The User CRM of the first customer the Customer List shows; returns its id. */
export async function openUser(page) {
  await page.goto(new URL("/customers", CONSOLE).href);
  const first = page.locator("[data-testid=customer-table] tbody tr[data-row-key]").first();
  await first.waitFor({ timeout: 120_000 });
  const id = await first.getAttribute("data-row-key");
  await page.goto(new URL(`/users?customer=${id}`, CONSOLE).href);
  await page.getByTestId("user-panel").waitFor();
  await page.waitForLoadState("networkidle").catch(() => undefined);
  return id;
}

export async function setLang(page, lang) {
  await page.evaluate((l) => localStorage.setItem("whale.lang", l), lang);
  await page.reload();
}

/** No WCAG 2.x A/AA violations found by axe-core on the page as it is now (or only inside the elements the
 * `include` selectors match: one part of a screen, a dialog). */
export async function axeViolations(page, { include = [] } = {}) {
  let builder = new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]);
  for (const selector of include) builder = builder.include(selector);
  const result = await builder.analyze();
  // each node with axe's own reason (e.g. the contrast ratio and colours found), so a failure says what to fix
  const why = (n) => [...n.any, ...n.all, ...n.none].map((c) => c.message).filter(Boolean)[0] ?? "";
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")} — ${why(n)}`).join("\n    ")}`);
}

/** The ECharts chart in `scope` has drawn: ECharts said "finished", the series are there and the canvas
 * has coloured pixels (a chart drawn in a box without size stays blank). Returns the series count. */
export async function chartDrawn(scope) {
  const chart = scope.locator("[data-testid=echart][data-drawn]").first();
  await chart.waitFor();
  const painted = await chart.evaluate((el) => {
    const canvas = el.querySelector("canvas");
    if (!canvas || !canvas.width || !canvas.height) return 0;
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 40) n += 1; // a coloured (not grey axis) pixel
    }
    return n;
  });
  if (painted < 200) throw new Error(`the chart has drawn only ${painted} coloured pixels`);
  return Number(await chart.getAttribute("data-series"));
}

export async function shot(page, name, lang, { fullPage = true } = {}) {
  await page.waitForLoadState("networkidle").catch(() => undefined);
  // drawers and dialogs are fixed to the viewport: a full-page capture would scroll them away
  await page.screenshot({ path: join(SHOTS, `${name}.${lang}.png`), fullPage });
}

/** Poll `fn` until it returns truthy or the deadline passes (never a bare sleep). */
export async function eventually(fn, { timeout = 30_000, interval = 500, message = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`${message} not met within ${timeout} ms (last: ${last})`);
}

/** Chooses the option titled `title` of an antd Select (its `combobox`). The select's chosen value lies over its
 * input, so the click is forced; a forced click lands where the input is at that moment, which is off target while
 * the dialog around it still zooms in on a loaded machine: wait for the motion to end, and open the list again
 * until the option shows. */
export async function pick(page, combobox, title) {
  await animationsDone(page);
  const option = page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)").getByTitle(title, { exact: typeof title === "string" });
  await eventually(async () => {
    if (!(await option.first().isVisible())) {
      await combobox.click({ force: true });
      await option.first().waitFor({ state: "visible", timeout: 3_000 });
    }
    return true;
  }, { timeout: 30_000, interval: 500, message: `the option ${title} shown` });
  await option.first().click();
}
