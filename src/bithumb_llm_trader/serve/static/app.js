// The dashboard: polls the API every few seconds and redraws. No build step.
// Everything read from the API is untrusted text (the model's reasons above all): it is
// only ever put in the page with textContent, never as HTML.
"use strict";

const API = "/api/v1";
const TOKEN_KEY = "bithumb-trader-token";
const view = { strategy: null, mode: null, refresh: 5, timer: null, charts: null, levels: [] };

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function askToken(why) {
  const entered = window.prompt(why + "\nAPI token (BITHUMB_TRADER_API_TOKEN):");
  if (entered) { sessionStorage.setItem(TOKEN_KEY, entered.trim()); }
  return entered ? entered.trim() : null;
}

async function api(path, options = {}) {
  const headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
  if (token()) { headers["Authorization"] = "Bearer " + token(); }
  const response = await fetch(API + path, Object.assign({}, options, { headers }));
  if (response.status === 401 && !options.retried) {
    if (askToken("This server needs its token.")) {
      return api(path, Object.assign({}, options, { retried: true }));
    }
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : response.statusText;
    throw new Error(response.status + " " + detail);
  }
  return body;
}

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) { node.textContent = String(text); }
  if (cls) { node.className = cls; }
  return node;
}

function row(cells, cls) {
  const tr = el("tr", null, cls);
  for (const cell of cells) {
    tr.appendChild(cell instanceof Node ? wrap(cell) : el("td", cell === null ? "-" : cell));
  }
  return tr;
}

function wrap(node) { const td = el("td"); td.appendChild(node); return td; }

function fmt(value, digits = 0) {
  if (value === null || value === undefined) { return "-"; }
  const n = Number(value);
  if (!Number.isFinite(n)) { return String(value); }
  return n.toLocaleString("en-US", { maximumFractionDigits: digits });
}

function seconds(iso) { return Math.floor(Date.parse(iso) / 1000); }

function setOptions(select, values, chosen) {
  const current = Array.from(select.options).map((o) => o.value).join("|");
  if (current !== values.join("|")) {
    select.replaceChildren(...values.map((v) => el("option", v)));
  }
  select.value = chosen;
}

function charts() {
  if (view.charts) { return view.charts; }
  const common = {
    layout: { background: { color: "#171c25" }, textColor: "#d7dce4" },
    grid: { vertLines: { color: "#222938" }, horzLines: { color: "#222938" } },
    timeScale: { timeVisible: true, secondsVisible: false },
    autoSize: true,
  };
  const price = LightweightCharts.createChart(document.getElementById("price-chart"), common);
  const equity = LightweightCharts.createChart(document.getElementById("equity-chart"), common);
  // The stop and target lines stay in view: the price axis stretches to include them.
  const withLevels = (original) => {
    const range = original();
    if (!range || !view.levels.length) { return range; }
    const prices = range.priceRange;
    return { priceRange: { minValue: Math.min(prices.minValue, ...view.levels),
      maxValue: Math.max(prices.maxValue, ...view.levels) } };
  };
  view.charts = { price, equity, priceSeries: price.addLineSeries({ color: "#7fb3ff",
    lineWidth: 2, priceFormat: { type: "price", precision: 0, minMove: 1 },
    autoscaleInfoProvider: withLevels }), priceLines: [], equityLines: {} };
  return view.charts;
}

function uniqueTimes(points) {
  const out = [];
  for (const p of points) {
    if (out.length && out[out.length - 1].time >= p.time) { out[out.length - 1] = p; }
    else { out.push(p); }
  }
  return out;
}

function drawPrices(data) {
  const c = charts();
  const points = uniqueTimes(data.points.map((p) => ({ time: seconds(p.created_at),
    value: Number(p.last_price) })));
  c.priceSeries.setData(points);
  const markers = data.trades.map((t) => {
    const buy = t.side === "bid";
    return { time: seconds(t.created_at), position: buy ? "belowBar" : "aboveBar",
      color: buy ? "#26a69a" : "#ef5350", shape: buy ? "arrowUp" : "arrowDown",
      text: (buy ? "BUY " : "SELL ") + fmt(t.avg_price) };
  }).sort((a, b) => a.time - b.time);
  c.priceSeries.setMarkers(markers);
  for (const line of c.priceLines) { c.priceSeries.removePriceLine(line); }
  c.priceLines = [];
  const levels = data.levels.guard || data.levels.verdict;
  const text = [];
  view.levels = [];
  if (levels) {
    for (const [key, title, color] of [["stop_loss_price", "stop", "#ef5350"],
      ["take_profit_price", "target", "#26a69a"]]) {
      if (levels[key] !== null && levels[key] !== undefined) {
        c.priceLines.push(c.priceSeries.createPriceLine({ price: Number(levels[key]), color,
          lineWidth: 1, lineStyle: 2, axisLabelVisible: true, title }));
        text.push(title + " " + fmt(levels[key]));
        view.levels.push(Number(levels[key]));
      }
    }
  }
  const chart = document.getElementById("price-chart");
  chart.dataset.markers = String(markers.length);
  chart.dataset.points = String(points.length);
  document.getElementById("price-title").textContent =
    data.strategy + " · " + data.market + " · " + data.mode + " (snapshot price per cycle)";
  document.getElementById("levels").textContent = text.length
    ? (data.levels.guard ? "open position guard: " : "last approved verdict: ") + text.join(", ")
    : "no stop or target levels";
  c.price.timeScale().fitContent();
}

const PALETTE = ["#f0b429", "#7fb3ff", "#c792ea", "#26a69a", "#ef5350", "#89ddff"];

function drawEquity(data) {
  const c = charts();
  const curves = (data.by_mode || {})[view.mode] || {};
  for (const [name, series] of Object.entries(c.equityLines)) {
    if (!(name in curves)) { c.equity.removeSeries(series); delete c.equityLines[name]; }
  }
  Object.entries(curves).forEach(([name, points], index) => {
    if (!c.equityLines[name]) {
      c.equityLines[name] = c.equity.addLineSeries({ color: PALETTE[index % PALETTE.length],
        lineWidth: 2, title: name, priceFormat: { type: "price", precision: 0, minMove: 1 } });
    }
    c.equityLines[name].setData(uniqueTimes(points.map(([at, value]) =>
      ({ time: seconds(at), value: Number(value) }))));
  });
  document.getElementById("equity-chart").dataset.lines = String(Object.keys(curves).length);
  document.getElementById("equity-title").textContent = view.mode + " account(s) only";
  c.equity.timeScale().fitContent();
}

function drawStatus(status) {
  document.getElementById("database").textContent = status.database;
  const mine = ((status.by_mode || {})[view.mode] || {})[view.strategy];
  const box = document.getElementById("risk");
  box.replaceChildren();
  if (mine) {
    const risk = mine.risk || {};
    const state = (risk.state || mine.trading_state || "unknown");
    const line = el("p");
    line.append(el("span", state, "state " + state), " · last cycle ",
      mine.started_at, " · ", mine.status);
    box.appendChild(line);
    box.appendChild(el("p", "reasons: " + ((risk.reasons || []).join(", ") || "none"),
      "muted"));
    if (risk.daily_pnl_krw !== undefined && risk.daily_pnl_krw !== null) {
      box.appendChild(el("p", "today's PnL " + fmt(risk.daily_pnl_krw) + " KRW", "muted"));
    }
  } else {
    box.appendChild(el("p", "no runs of this strategy in this mode", "muted"));
  }
  for (const lease of status.leases || []) {
    box.appendChild(el("p", "lease " + lease.lease_key + ": " + lease.holder_host +
      " pid " + lease.holder_pid + " until " + lease.expires_at, "muted"));
  }
  const kill = status.kill_switch;
  const stateNode = document.getElementById("kill-state");
  stateNode.textContent = !kill.configured ? "kill switch: not configured"
    : kill.engaged ? "kill switch ENGAGED" : "kill switch off";
  stateNode.className = kill.engaged ? "state engaged" : "";
  const button = document.getElementById("kill-button");
  button.textContent = kill.engaged ? "Release kill switch" : "Engage kill switch";
  button.className = kill.engaged ? "" : "danger";
  button.dataset.engaged = kill.engaged ? "true" : "false";
  button.disabled = !kill.configured;
}

function drawDecisions(page) {
  const body = document.querySelector("#decision-log tbody");
  body.replaceChildren(...page.items.map((d) => {
    const ex = d.execution;
    const verdict = d.verdict === null ? null : d.verdict.approved
      ? (d.verdict.shrunk ? "approved (shrunk)" : "approved")
      : "rejected: " + (d.verdict.reasons || []).join(", ");
    const order = ex && ex.method !== "none"
      ? ex.method + " " + (ex.side === "bid" ? "buy" : "sell") + " " + ex.status
      : (ex ? ex.status : (d.status === "ok" ? null : d.status + (d.error ? ": " + d.error : "")));
    const fill = ex && ex.avg_price !== null
      ? fmt(ex.filled_volume, 8) + " @ " + fmt(ex.avg_price) : null;
    const slip = ex && ex.slippage_bps !== null ? fmt(ex.slippage_bps, 2) + " bps" : null;
    const tr = row([d.started_at.replace("T", " ").slice(0, 19), d.strategy,
      el("span", d.action || "-", d.action || ""), d.confidence, null, verdict, order, fill,
      slip], "decision " + (d.action || ""));
    const reason = el("td", d.reason || d.hold_reason || "-", "reason");
    reason.title = d.reason || "";
    tr.replaceChild(reason, tr.children[4]);
    return tr;
  }));
}

function drawPositions(data) {
  const body = document.querySelector("#positions tbody");
  const mine = ((data.by_mode || {})[view.mode] || {})[view.strategy];
  if (!mine) { body.replaceChildren(row(["no valued run yet"])); return; }
  const rows = [row(["equity", fmt(mine.equity_krw) + " KRW"]),
    row(["cash", fmt(mine.cash_krw) + " KRW"])];
  for (const h of mine.holdings) {
    if (h.currency !== "KRW") {
      rows.push(row([h.currency, fmt(h.size, 8) + " @ avg " + fmt(h.avg_price) +
        " = " + fmt(h.value_krw) + " KRW"]));
    }
  }
  body.replaceChildren(...rows);
}

function drawModel(data) {
  const body = document.querySelector("#model tbody");
  const usage = (data.by_mode || {})[view.mode];
  if (!usage) { body.replaceChildren(row(["no model use"])); return; }
  const total = usage.total;
  body.replaceChildren(row(["requests", fmt(total.requests)]),
    row(["tokens in / out", fmt(total.prompt_tokens) + " / " + fmt(total.completion_tokens)]),
    row(["cost", "$" + fmt(total.cost_usd, 4)]),
    row(["mean latency", fmt(total.mean_latency_ms) + " ms"]));
}

async function refresh() {
  const error = document.getElementById("error");
  try {
    const [status, strategies] = await Promise.all([api("/status"), api("/strategies")]);
    view.refresh = status.refresh_seconds || 5;
    const names = strategies.items.map((s) => s.name);
    if (!view.strategy || !names.includes(view.strategy)) {
      view.strategy = strategies.configured && names.includes(strategies.configured)
        ? strategies.configured : (names[0] || null);
    }
    if (!view.strategy) { error.textContent = "no runs recorded yet"; return; }
    const modes = Object.keys(strategies.items.find((s) => s.name === view.strategy).modes);
    if (!view.mode || !modes.includes(view.mode)) { view.mode = modes[0]; }
    setOptions(document.getElementById("strategy"), names, view.strategy);
    setOptions(document.getElementById("mode"), modes, view.mode);
    const q = "strategy=" + encodeURIComponent(view.strategy) + "&mode=" + view.mode;
    const [prices, equity, decisions, positions, model] = await Promise.all([
      api("/prices?" + q + "&points=2000"), api("/equity?mode=" + view.mode + "&points=2000"),
      api("/decisions?" + q + "&limit=50"), api("/positions?" + q),
      api("/model-usage?" + q)]);
    drawStatus(status);
    drawPrices(prices);
    drawEquity(equity);
    drawDecisions(decisions);
    drawPositions(positions);
    drawModel(model);
    error.textContent = "";
    document.getElementById("updated").textContent =
      "updated " + new Date().toLocaleTimeString() + " · every " + view.refresh + " s";
  } catch (exc) {
    error.textContent = String(exc.message || exc);
  }
}

async function pressKillSwitch() {
  const button = document.getElementById("kill-button");
  const on = button.dataset.engaged !== "true";
  const message = document.getElementById("kill-message");
  const entered = token() || askToken((on ? "Engage" : "Release") + " the kill switch?");
  if (!entered) { message.textContent = "no token given: nothing changed"; return; }
  try {
    const result = await api("/kill-switch", { method: "POST", retried: true,
      headers: { "Content-Type": "application/json" }, body: JSON.stringify({ on }) });
    message.textContent = "kill switch " + (result.engaged ? "engaged" : "released") +
      " (" + result.file + ")";
  } catch (exc) {
    if (String(exc.message).startsWith("401")) { sessionStorage.removeItem(TOKEN_KEY); }
    message.textContent = String(exc.message || exc);
  }
  refresh();
}

function schedule() {
  clearTimeout(view.timer);
  view.timer = setTimeout(async () => { await refresh(); schedule(); }, view.refresh * 1000);
}

window.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("kill-button").addEventListener("click", pressKillSwitch);
  document.getElementById("strategy").addEventListener("change", (e) => {
    view.strategy = e.target.value; view.mode = null; refresh();
  });
  document.getElementById("mode").addEventListener("change", (e) => {
    view.mode = e.target.value; refresh();
  });
  await refresh();
  schedule();
});
