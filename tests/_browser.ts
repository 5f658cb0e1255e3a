/// <reference lib="dom" />
/**
 * Opens a report in headless Chromium (through puppeteer-core, JavaScript
 * off) and prints what a test needs as one JSON object on stdout: every
 * request the page made, console messages and page errors, and what is
 * drawn (graph nodes, heatmap columns, the totals shown). Optionally saves
 * a screenshot of the page from the top down to the heatmap.
 *
 * Run by `tests/report_browser_test.ts` in a child process with exactly
 * the permissions it needs, so the test task's own stay as they are:
 *
 * ```sh
 * deno run --allow-read --allow-write=DIR --allow-env --allow-run=/usr/bin/chromium \
 *   tests/_browser.ts --url file:///.../report.html --chromium /usr/bin/chromium \
 *   --profile DIR/profile [--screenshot DIR/report.png]
 * ```
 *
 * (`--allow-env` without a list: puppeteer-core's `debug` dependency lists
 * every environment variable when it loads.)
 *
 * @module
 */

import { parseArgs } from "node:util";
import puppeteer from "puppeteer-core";

/** What the page showed, as printed on stdout. */
export interface PageFacts {
  /** URLs of every request the page made, in order. */
  requests: string[];
  /** URLs of requests that failed. */
  failedRequests: string[];
  /** Console messages, `type: text`. */
  console: string[];
  /** Uncaught page errors. */
  pageErrors: string[];
  /** Document title. */
  title: string;
  /** Number of `<script>` elements. */
  scripts: number;
  /** Asset names drawn in the graph, in document order. */
  graphAssets: string[];
  /** Visible text of the graph nodes' name labels. */
  graphLabels: string[];
  /** Heatmap facts, or null when the page shows no heatmap. */
  heatmap: {
    /** The date shown. */
    date: string;
    /** Distinct x positions of the drawn cells (one per hour column). */
    columns: number;
    /** Number of drawn cells. */
    cells: number;
    /** Hour axis labels, in order. */
    hourLabels: string[];
    /** Cell tooltips. */
    titles: string[];
    /** Whether it has a legend. */
    legend: boolean;
  } | null;
  /** Text of each `[data-total]` tile, by id. */
  totals: Record<string, string>;
  /** Per date row of the overview table: its state and the text of each field. */
  days: { date: string; state: string; fields: Record<string, string> }[];
  /** Dates with an explicit "no data" box. */
  noData: string[];
  /** Page height in CSS pixels. */
  height: number;
}

const FLAGS = {
  url: { type: "string" },
  chromium: { type: "string" },
  profile: { type: "string" },
  screenshot: { type: "string" },
} as const;

async function inspect(flags: Record<string, string | undefined>): Promise<PageFacts> {
  const browser = await puppeteer.launch({
    executablePath: flags.chromium,
    userDataDir: flags.profile,
    pipe: true,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--hide-scrollbars",
    ],
  });
  try {
    const page = await browser.newPage();
    const requests: string[] = [];
    const failedRequests: string[] = [];
    const consoleMessages: string[] = [];
    const pageErrors: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    page.on("requestfailed", (request) => failedRequests.push(request.url()));
    page.on("console", (message) => consoleMessages.push(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    await page.setJavaScriptEnabled(false);
    await page.setViewport({ width: 1200, height: 900, deviceScaleFactor: 1 });
    await page.goto(flags.url!, { waitUntil: "load" });

    const facts = await page.evaluate(() => {
      const text = (el: Element | null) => (el?.textContent ?? "").trim();
      const heatmapFigure = document.querySelector("figure.heatmap");
      let heatmap = null;
      if (heatmapFigure) {
        const cells = [...heatmapFigure.querySelectorAll("g.role-mark path, g.role-mark rect")]
          .filter((el) => el.querySelector("title"));
        const xs = new Set(cells.map((el) => Math.round(el.getBoundingClientRect().x)));
        heatmap = {
          date: heatmapFigure.getAttribute("data-date") ?? "",
          columns: xs.size,
          cells: cells.length,
          hourLabels: [...heatmapFigure.querySelectorAll("g.role-axis-label text")]
            .map((el) => text(el)).filter((t) => /^\d\d$/.test(t)),
          titles: cells.map((el) => text(el.querySelector("title"))),
          legend: heatmapFigure.querySelector("g.role-legend") !== null,
        };
      }
      const totals: Record<string, string> = {};
      for (const el of document.querySelectorAll("[data-total]")) {
        totals[el.getAttribute("data-total")!] = (el.firstChild?.textContent ?? "").trim();
      }
      return {
        title: document.title,
        scripts: document.querySelectorAll("script").length,
        graphAssets: [...document.querySelectorAll("svg.asset-graph g.asset-node")]
          .map((el) => el.getAttribute("data-asset") ?? ""),
        graphLabels: [...document.querySelectorAll("svg.asset-graph text.asset-name")]
          .map((el) => text(el)),
        heatmap,
        totals,
        days: [...document.querySelectorAll("table.overview tr[data-date]")].map((tr) => ({
          date: tr.getAttribute("data-date") ?? "",
          state: tr.querySelector("[data-state]")?.getAttribute("data-state") ?? "",
          fields: Object.fromEntries(
            [...tr.querySelectorAll("td[data-field]")].map((td) => [
              td.getAttribute("data-field"),
              text(td),
            ]),
          ),
        })),
        noData: [...document.querySelectorAll("[data-no-data]")]
          .map((el) => el.getAttribute("data-no-data") ?? ""),
        height: document.documentElement.scrollHeight,
      };
    });

    if (flags.screenshot) {
      const bottom = await page.evaluate(() => {
        const section = document.querySelector("#heatmap") ?? document.body;
        return Math.ceil(section.getBoundingClientRect().bottom + globalThis.scrollY + 16);
      });
      await page.screenshot({
        path: flags.screenshot as `${string}.png`,
        clip: { x: 0, y: 0, width: 1200, height: bottom },
        captureBeyondViewport: true,
      });
    }
    return { requests, failedRequests, console: consoleMessages, pageErrors, ...facts };
  } finally {
    await browser.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: FLAGS, strict: true });
  if (!values.url || !values.chromium || !values.profile) {
    console.error("usage: _browser.ts --url URL --chromium PATH --profile DIR [--screenshot PNG]");
    Deno.exit(2);
  }
  const facts = await inspect(values);
  console.log(JSON.stringify(facts));
}
