// Customer List in Chromium against a gateway whose customer API holds a large read model (bench/bench_console.py
// starts both and seeds the rows). Prints one JSON object on stdout: samples in milliseconds.
//   node web/bench/customer-list.mjs --url http://127.0.0.1:18900/ --token JWT [--runs 12] [--pages 20]
//
// - first page: navigation start → the first page's rows are on screen and the table is not loading
//   (performance.now() in the page, whose origin is the navigation start), a fresh load each run;
// - next page: the click on Next → the next page's rows on screen;
// - filter: a click on a stage card → that stage's answer has arrived and its rows are on screen;
// - raw: the very same API calls made with fetch() from the same page (through the gateway), without the
//   console around them: the floor the screen's figures stand on.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const url = arg("url");
const token = arg("token");
const runs = Number(arg("runs", 12));
const pages = Number(arg("pages", 20));
if (!url || !token) throw new Error("--url and --token are required");

const profile = mkdtempSync(join(tmpdir(), "whale-bench-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
  viewport: { width: 1280, height: 860 },
});
context.setDefaultTimeout(60_000);
// signed in as the development sign-in would leave it: the session in sessionStorage, English
await context.addInitScript(([t]) => {
  sessionStorage.setItem("whale.session", JSON.stringify({ token: t, via: "dev" }));
  localStorage.setItem("whale.lang", "en");
  // when each customer-list answer arrived (the filter's rows are on screen only after its answer)
  window.__lists = [];
  const fetch0 = window.fetch.bind(window);
  window.fetch = async (...a) => {
    const res = await fetch0(...a);
    const u = String(a[0] instanceof Request ? a[0].url : a[0]);
    if (u.includes("/api/customer/customers?")) res.clone().text().then(() => window.__lists.push({ url: u, at: performance.now() }));
    return res;
  };
}, [token]);
const page = context.pages()[0] ?? (await context.newPage());

// in the page: resolve with performance.now() once `done()` holds on an animation frame
const WAIT = `(done) => new Promise((resolve) => { const tick = () => (done() ? resolve(performance.now()) : requestAnimationFrame(tick)); tick(); })`;
const ROWS = "[data-testid=customer-table] tbody tr[data-row-key]";

const out = { first_page: [], next_page: [], filter: [], raw_first: [], raw_next: [], raw_filter: [] };
try {
  for (let r = 0; r < runs + 1; r++) {
    await page.goto(new URL("/customers", url).href, { waitUntil: "commit" });
    const t = await page.evaluate(`(${WAIT})(() => document.querySelectorAll(${JSON.stringify(ROWS)}).length > 0
      && !document.querySelector("[data-testid=customer-table] .ant-spin-spinning"))`);
    if (r > 0) out.first_page.push(t); // the first load warms the caches (chunks, connections)
  }
  for (let p = 0; p < pages; p++) {
    const ms = await page.evaluate(`(async () => {
      const first = () => document.querySelector(${JSON.stringify(ROWS)})?.getAttribute("data-row-key");
      const before = first();
      const t0 = performance.now();
      document.querySelector("[data-testid=page-next]").click();
      const t1 = await (${WAIT})(() => first() && first() !== before && !document.querySelector("[data-testid=customer-table] .ant-spin-spinning"));
      return t1 - t0;
    })()`);
    out.next_page.push(ms);
  }
  const stages = ["funded", "traded", "pending_funding", "registered"];
  for (let f = 0; f < runs; f++) {
    await page.goto(new URL("/customers", url).href);
    await page.locator(ROWS).first().waitFor();
    const stage = stages[f % stages.length];
    const ms = await page.evaluate(`(async () => {
      const t0 = performance.now();
      document.querySelector("[data-testid=stage-card-${stage}]").click();
      const t1 = await (${WAIT})(() => window.__lists.some((l) => l.at >= t0 && l.url.includes("stage=${stage}"))
        && !document.querySelector("[data-testid=customer-table] .ant-spin-spinning")
        && [...document.querySelectorAll(${JSON.stringify(ROWS)})].length > 0);
      return t1 - t0;
    })()`);
    out.filter.push(ms);
  }
  // the raw calls: the same requests the screen makes, timed around fetch() alone
  const raw = await page.evaluate(async ([t, n]) => {
    const h = { Authorization: `Bearer ${t}` };
    const time = async (path) => {
      const t0 = performance.now();
      const res = await fetch(path, { headers: h });
      const body = await res.json();
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      return [performance.now() - t0, body];
    };
    const o = { raw_first: [], raw_next: [], raw_filter: [] };
    for (let i = 0; i < n; i++) {
      const [a, page1] = await time("/api/customer/customers?sort=registered_at&order=desc&limit=50");
      o.raw_first.push(a);
      const [b] = await time(`/api/customer/customers?sort=registered_at&order=desc&limit=50&cursor=${encodeURIComponent(page1.next_cursor)}`);
      o.raw_next.push(b);
      const [c] = await time("/api/customer/customers?stage=funded&sort=registered_at&order=desc&limit=50");
      o.raw_filter.push(c);
    }
    return o;
  }, [token, Math.max(runs, pages)]);
  Object.assign(out, raw);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(out)}\n`);
