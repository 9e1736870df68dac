/**
 * The HTML report of `tradewire backtest`: the statistics, the equity and drawdown curves and the
 * price with the trades (lightweight-charts, the playground's chart library, inlined from the
 * package so the file opens offline), and VeighNa's daily results table. One self-contained file.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { BacktestStatistics, DailyResult, EquityPoint, TradeData } from "../sim/index.ts";

export interface ReportInput {
  title: string;
  /** What was run, one line each (strategy, symbol, seed, parameters). */
  about: string[];
  statistics: BacktestStatistics;
  daily: DailyResult[];
  equity: EquityPoint[];
  trades: TradeData[];
  /** Display time zone, minutes east of UTC (the charts' axis). */
  utcOffsetMinutes: number;
}

/** [label, key, decimals] in VeighNa's order; decimals undefined for text and whole numbers. */
export const STATISTIC_ROWS: Array<[string, keyof BacktestStatistics, number?]> = [
  ["First trading day", "startDate"],
  ["Last trading day", "endDate"],
  ["Trading days", "totalDays"],
  ["Profitable days", "profitDays"],
  ["Losing days", "lossDays"],
  ["Capital", "capital", 2],
  ["End balance", "endBalance", 2],
  ["Total return %", "totalReturn", 2],
  ["Annual return %", "annualReturn", 2],
  ["Max drawdown", "maxDrawdown", 2],
  ["Max drawdown %", "maxDdpercent", 2],
  ["Max drawdown days", "maxDrawdownDuration"],
  ["Total net PnL", "totalNetPnl", 2],
  ["Total commission", "totalCommission", 2],
  ["Total slippage", "totalSlippage", 2],
  ["Total turnover", "totalTurnover", 2],
  ["Total trades", "totalTradeCount"],
  ["Daily net PnL", "dailyNetPnl", 2],
  ["Daily commission", "dailyCommission", 2],
  ["Daily slippage", "dailySlippage", 2],
  ["Daily turnover", "dailyTurnover", 2],
  ["Daily trades", "dailyTradeCount", 2],
  ["Daily return %", "dailyReturn", 4],
  ["Return std %", "returnStd", 4],
  ["Sharpe ratio", "sharpeRatio", 2],
  ["Return / drawdown", "returnDrawdownRatio", 2],
];

export function formatStatistic(s: BacktestStatistics, key: keyof BacktestStatistics, decimals?: number): string {
  const v = s[key];
  if (typeof v !== "number") return String(v);
  return v.toLocaleString("en-US", { minimumFractionDigits: decimals ?? 0, maximumFractionDigits: decimals ?? 0 });
}

/** The statistics as an aligned two-column text table. */
export function statisticsTable(s: BacktestStatistics): string {
  const width = Math.max(...STATISTIC_ROWS.map(([l]) => l.length));
  const lines = STATISTIC_ROWS.map(([label, key, d]) => `${label.padEnd(width)}  ${formatStatistic(s, key, d)}`);
  if (!s.positiveBalance) lines.push("(the balance fell to zero or below: statistics are not computed, as in VeighNa)");
  return lines.join("\n");
}

function chartLibrary(): string {
  // The package exports only its ES module; the standalone build (a global, no imports) sits beside it.
  const pkg = createRequire(import.meta.url).resolve("lightweight-charts/package.json");
  return readFileSync(join(dirname(pkg), "dist", "lightweight-charts.standalone.production.js"), "utf8");
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
/** JSON safe inside a <script> element. */
const scriptJson = (x: unknown): string => JSON.stringify(x).replace(/</g, "\\u003c");

export function renderReport(input: ReportInput): string {
  const shift = input.utcOffsetMinutes * 60;
  const sec = (ms: number): number => Math.floor(ms / 1000) + shift;
  const data = {
    balance: input.equity.map((p) => ({ time: sec(p.time), value: round(p.balance) })),
    drawdown: input.equity.map((p) => ({ time: sec(p.time), value: round(p.drawdown) })),
    price: input.equity.map((p) => ({ time: sec(p.time), value: p.price })),
    // A marker sits on a point of its series: the minute's point at or after the trade.
    trades: input.trades.map((t) => ({
      time: sec(pointAtOrAfter(input.equity, t.datetime)), long: t.direction === "LONG",
      text: `${t.direction === "LONG" ? "B" : "S"} ${t.volume}@${t.price}`,
    })),
  };
  const stats = STATISTIC_ROWS.map(([label, key, d]) => `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(formatStatistic(input.statistics, key, d))}</td></tr>`).join("");
  const dailyCols: Array<[string, keyof DailyResult]> = [
    ["Date", "date"], ["Close", "closePrice"], ["Position", "endPos"], ["Trades", "tradeCount"], ["Trading PnL", "tradingPnl"],
    ["Holding PnL", "holdingPnl"], ["Commission", "commission"], ["Slippage", "slippage"], ["Turnover", "turnover"],
    ["Net PnL", "netPnl"], ["Balance", "balance"], ["Drawdown", "drawdown"],
  ];
  const dailyRows = input.daily.map((d) =>
    `<tr>${dailyCols.map(([, k]) => `<td>${typeof d[k] === "number" ? (d[k] as number).toLocaleString("en-US", { maximumFractionDigits: 2 }) : escapeHtml(String(d[k]))}</td>`).join("")}</tr>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #1d2733; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 20px 0 6px; }
.about { color: #5b6675; margin: 0 0 16px; }
.grid { display: grid; grid-template-columns: 330px 1fr; gap: 24px; align-items: start; }
table { border-collapse: collapse; } th, td { padding: 2px 10px; text-align: right; border-bottom: 1px solid #eef0f3; }
table.stats th { text-align: left; font-weight: 500; color: #5b6675; }
.chart { height: 240px; border: 1px solid #e3e6ea; }
.warn { color: #b3261e; }
</style></head><body>
<h1>${escapeHtml(input.title)}</h1>
<p class="about">${input.about.map(escapeHtml).join("<br>")}</p>
${input.statistics.positiveBalance ? "" : '<p class="warn">The balance fell to zero or below: statistics are not computed (as in VeighNa).</p>'}
<div class="grid"><table class="stats">${stats}</table>
<div><h2>Balance</h2><div id="balance" class="chart"></div>
<h2>Drawdown</h2><div id="drawdown" class="chart"></div>
<h2>Price and trades</h2><div id="price" class="chart"></div></div></div>
<h2>Daily results</h2>
<table class="daily"><tr>${dailyCols.map(([l]) => `<th>${l}</th>`).join("")}</tr>${dailyRows}</table>
<script>${chartLibrary()}</script>
<script type="application/json" id="data">${scriptJson(data)}</script>
<script>
const data = JSON.parse(document.getElementById("data").textContent);
const LC = LightweightCharts;
const charts = [];
function chart(id) {
  // A small minimum bar spacing lets fitContent show a whole run of many minutes.
  const c = LC.createChart(document.getElementById(id), {
    autoSize: true, timeScale: { timeVisible: true, secondsVisible: false, minBarSpacing: 0.001 },
  });
  charts.push(c);
  return c;
}
chart("balance").addSeries(LC.LineSeries, { color: "#1f6feb", lineWidth: 2 }).setData(data.balance);
chart("drawdown").addSeries(LC.AreaSeries, { lineColor: "#d1242f", topColor: "rgba(209,36,47,0.05)", bottomColor: "rgba(209,36,47,0.35)", invertFilledArea: true }).setData(data.drawdown);
const price = chart("price").addSeries(LC.LineSeries, { color: "#57606a", lineWidth: 1 });
price.setData(data.price);
LC.createSeriesMarkers(price, data.trades.map((t) => ({
  time: t.time, position: t.long ? "belowBar" : "aboveBar", color: t.long ? "#1a7f37" : "#d1242f",
  shape: t.long ? "arrowUp" : "arrowDown", text: data.trades.length <= 40 ? t.text : "",
})));
// The three charts scroll and zoom together.
for (const c of charts) c.timeScale().subscribeVisibleLogicalRangeChange((range) => {
  if (range) for (const o of charts) if (o !== c) o.timeScale().setVisibleLogicalRange(range);
});
for (const c of charts) c.timeScale().fitContent();
</script></body></html>
`;
}

function pointAtOrAfter(points: EquityPoint[], time: number): number {
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.time < time) lo = mid + 1;
    else hi = mid;
  }
  return points[lo]?.time ?? time;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
