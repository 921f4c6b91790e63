// The stratbox dashboard: reads the service's API with the operator's bearer token, follows
// its live stream (server-sent events read through fetch, so the token stays in a header) and
// sends the operator's actions. No framework and nothing fetched from elsewhere.
"use strict";

const state = { token: sessionStorage.getItem("stratbox-token") || "", snap: null, page: "overview", selected: null, charts: 0 };
const $ = (id) => document.getElementById(id);
const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const num = (v, d = 2) => (v === null || v === undefined || v === "" ? "–" : Number(v).toLocaleString(undefined, { maximumFractionDigits: d, minimumFractionDigits: d }));
const pct = (v) => (v === null || v === undefined ? "–" : (100 * v).toFixed(2) + " %");
const time = (ms) => (ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "–");

async function api(method, path, body) {
  const init = { method, headers: { Authorization: "Bearer " + state.token } };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (response.status === 401) { logout("The token was refused."); throw new Error("unauthorized"); }
  if (!response.ok) throw new Error((data && data.error) || response.status + " " + response.statusText);
  return data;
}

function say(text, error = false) {
  const m = $("message");
  m.textContent = text;
  m.className = error ? "error" : "";
}

function table(el, headers, rows) {
  const head = "<tr>" + headers.map((h) => "<th>" + esc(h) + "</th>").join("") + "</tr>";
  const body = rows.length ? rows.map((r) => "<tr>" + r.join("") + "</tr>").join("") : `<tr><td colspan="${headers.length}">none</td></tr>`;
  el.innerHTML = head + body;
}
const td = (v) => "<td>" + esc(v) + "</td>";
const tn = (v, d = 2) => '<td class="num">' + esc(num(v, d)) + "</td>";
// An order type's name: serde writes a unit variant as a string, the others as { name: fields }.
const kind = (t) => (typeof t === "string" ? t : Object.keys(t || {})[0] || "–");
const stateTag = (s) => `<span class="state state-${esc(s)}">${esc(s)}</span>`;
function bar(ratio, title) {
  if (ratio === null || ratio === undefined || !isFinite(ratio)) return "<td>–</td>";
  const r = Math.max(0, Math.min(1, ratio));
  const cls = ratio >= 1 ? "bad" : ratio >= 0.7 ? "warn" : "";
  return `<td title="${esc(title)}"><span class="bar ${cls}"><i style="width:${(r * 100).toFixed(1)}%"></i></span> ${(ratio * 100).toFixed(0)} %</td>`;
}
function card(label, value) {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value">${value}</div></div>`;
}

function draw(svg, points, key) {
  const values = points.map((p) => p[key]).filter((v) => isFinite(v));
  if (values.length < 2) { svg.innerHTML = '<text x="10" y="90" fill="#8a97a3">waiting for bars…</text>'; return; }
  let lo = Math.min(...values), hi = Math.max(...values);
  if (hi === lo) { hi += 1e-9; lo -= 1e-9; }
  const xs = points.length - 1;
  const coords = points.map((p, i) => `${((i / xs) * 600).toFixed(1)},${(170 - ((p[key] - lo) / (hi - lo)) * 160).toFixed(1)}`);
  svg.innerHTML = `<polyline points="${coords.join(" ")}"></polyline>` +
    `<text x="4" y="12" fill="#8a97a3" font-size="11">${esc(num(hi, key === "drawdown" ? 4 : 2))}</text>` +
    `<text x="4" y="176" fill="#8a97a3" font-size="11">${esc(num(lo, key === "drawdown" ? 4 : 2))}</text>`;
}

function riskOf(name) {
  return state.snap ? state.snap.risk.deployments.find((d) => d.name === name) : null;
}

function renderHeader() {
  const s = state.snap;
  const acct = s.risk.account;
  $("account-state").outerHTML = `<span id="account-state" class="state state-${esc(acct.state)}" title="${esc(acct.reason)}">account ${esc(acct.state)}</span>`;
  $("alert-count").textContent = s.alerts.firing.length || "";
}

function renderOverview() {
  const s = state.snap;
  $("cards").innerHTML = card("Equity", esc(num(s.account.equity)) + " " + esc(s.account.valuation)) +
    card("Deployments", s.deployments.length) +
    card("Open orders", s.account.open_orders.length) +
    card("Alerts firing", s.alerts.firing.length) +
    card("Updated", esc(time(s.time_ms)));
  table($("deployments"), ["name", "world", "status", "trading", "version", "events", "equity", "open", "CPU", "drawdown", "VaR"],
    s.deployments.map((d) => {
      const r = riskOf(d.name);
      return [
        `<td><a href="#deployment" data-select="${esc(d.name)}">${esc(d.name)}</a></td>`, td(d.world),
        "<td>" + stateTag(d.status) + "</td>", "<td>" + stateTag(d.trading_state) + "</td>",
        td((d.hash || "").slice(0, 12)), tn(d.delivered, 0), tn(d.equity), tn(d.open_orders, 0),
        bar(r && r.max_cpu_share ? d.cpu_share / r.max_cpu_share : d.cpu_share, "CPU share of its budget"),
        bar(r && r.max_drawdown ? r.drawdown / r.max_drawdown : null, "drawdown of its budget's max_drawdown"),
        bar(r && r.max_var && r.var !== null ? r.var / r.max_var : null, "VaR of its budget's max_var"),
      ];
    }));
  table($("account-positions"), ["symbol", "quantity", "average", "mark", "unrealised", "realised"],
    s.account.positions.map((p) => [td(p.symbol), tn(p.quantity, 8), tn(p.average_price), tn(p.mark_price), tn(p.unrealized_pnl), tn(p.realized_pnl)]));
}

function renderDeploymentSelect() {
  const names = state.snap.deployments.map((d) => d.name);
  if (!state.selected || !names.includes(state.selected)) state.selected = names[0] || null;
  const select = $("deployment-select");
  const current = Array.from(select.options).map((o) => o.value).join();
  if (current !== names.join()) select.innerHTML = names.map((n) => `<option>${esc(n)}</option>`).join("");
  select.value = state.selected || "";
}

function renderDeploymentSummary() {
  const d = state.snap.deployments.find((x) => x.name === state.selected);
  if (!d) { $("deployment-summary").innerHTML = card("Deployment", "none"); return; }
  const r = riskOf(d.name) || {};
  $("deployment-summary").innerHTML = card("Status", stateTag(d.status) + (d.reason ? " " + esc(d.reason) : "")) +
    card("Trading", stateTag(d.trading_state)) + card("Equity", esc(num(d.equity))) +
    card("Drawdown", esc(pct(r.drawdown))) + card("VaR", esc(pct(r.var))) +
    card("Version", esc((d.hash || "").slice(0, 12))) + card("Previous", esc((d.previous_hash || "–").slice(0, 12)));
}

async function refreshDeployment() {
  const name = state.selected;
  if (!name) return;
  const [account, history, fills, curve] = await Promise.all([
    api("GET", `/v1/deployments/${encodeURIComponent(name)}/account`),
    api("GET", `/v1/deployments/${encodeURIComponent(name)}/orders?limit=50`),
    api("GET", `/v1/deployments/${encodeURIComponent(name)}/fills?limit=50`),
    api("GET", `/v1/deployments/${encodeURIComponent(name)}/equity?limit=500`),
  ]);
  table($("deployment-balances"), ["asset", "free", "locked"], account.balances.map((b) => [td(b.asset), tn(b.free, 8), tn(b.locked, 8)]));
  table($("deployment-positions"), ["symbol", "quantity", "average", "mark", "unrealised", "realised"],
    account.positions.map((p) => [td(p.symbol), tn(p.quantity, 8), tn(p.average_price), tn(p.mark_price), tn(p.unrealized_pnl), tn(p.realized_pnl)]));
  table($("deployment-orders"), ["id", "symbol", "side", "type", "status", "filled", "time"],
    account.open_orders.map((o) => [tn(o.order_id, 0), td(o.symbol), td(o.side), td(kind(o.order_type)), td(o.status), tn(o.filled, 6), td(time(o.time_ms))]));
  table($("deployment-history"), ["id", "symbol", "side", "type", "status", "filled", "fees", "time"],
    history.items.map((o) => [tn(o.order_id, 0), td(o.symbol), td(o.request.side), td(kind(o.request.order_type)), td(o.status), tn(o.filled, 6), tn(o.fees, 6), td(time(o.time_ms))]));
  table($("deployment-fills"), ["trade", "order", "symbol", "side", "price", "quantity", "fee", "commission", "liquidity", "time"],
    fills.items.map((f) => [tn(f.trade_id, 0), tn(f.order_id, 0), td(f.symbol), td(f.side), tn(f.price), tn(f.quantity, 6), tn(f.fee, 6),
      td(f.commission_asset ? f.commission + " " + f.commission_asset : ""), td(f.liquidity), td(time(f.time_ms))]));
  draw($("deployment-equity"), curve.items, "equity");
  draw($("deployment-drawdown"), curve.items, "drawdown");
}

function renderRisk() {
  const s = state.snap;
  table($("risk-deployments"), ["name", "state", "reason", "equity", "peak", "drawdown", "VaR (1d 95 %)", "exposure", "stops"],
    s.risk.deployments.map((d) => [td(d.name), "<td>" + stateTag(d.state.state) + "</td>", td(d.state.reason), tn(d.equity), tn(d.peak_equity), td(pct(d.drawdown)), td(pct(d.var)), tn(d.gross_exposure), tn(d.stops.length, 0)]));
  table($("risk-var"), ["method", "confidence", "VaR", "CVaR"],
    s.risk.account_var.map((v) => [td(v.method), td(pct(v.confidence)), td(pct(v.var)), td(pct(v.cvar))]));
}

function renderFeeds() {
  table($("feeds"), ["symbol", "messages", "malformed", "lag (ms)", "reconnects", "resyncs", "crossed", "late", "backfilled", "streams"],
    state.snap.feeds.map((f) => [td(f.symbol), tn(f.messages, 0), tn(f.malformed, 0), tn(f.lag_ms, 0), tn(f.reconnects, 0), tn(f.resyncs, 0), tn(f.crossed, 0), tn(f.late, 0), tn(f.backfilled, 0), td((f.streams || []).join(" "))]));
}

// One live exchange account's cards.
function accountCards(name, l) {
  const use = (used, limit) => `${used} / ${limit}`;
  return `<h3>${esc(name)}</h3><div class="cards">` + card("User stream", l.connected ? "connected" : "down") +
    card("Reconnects", l.reconnects) + card("Clock offset", l.clock_offset_ms + " ms") +
    card("Request weight", use(l.weight_used, l.weight_limit)) + card("Orders (10 s)", use(l.orders_10s, l.orders_10s_limit)) +
    card("Orders (day)", use(l.orders_day, l.orders_day_limit)) + card("Open / in doubt", `${l.open_orders} / ${l.in_doubt}`) +
    card("Reconciled", l.last_reconciliation ? esc(time(l.last_reconciliation)) + ` (${l.reconciliations})` : "not yet") +
    card("Recovered fills", l.recovered_fills) + card("Unknown trades", l.unknown_trades) +
    (l.books && l.books.length ? card("Books", esc(l.books.join(" "))) : "") +
    (l.fee_discounts && l.fee_discounts.length ? card("Fees in BNB", esc(l.fee_discounts.join(" "))) : "") +
    (l.last_error ? card("Last error", esc(l.last_error)) : "") + "</div>";
}

function renderVenue(v) {
  if (!v.accounts.length) {
    $("venue-summary").innerHTML = '<div class="cards">' + card("Venue", "simulated (paper trading)") + "</div>";
    $("venue-balances").innerHTML = "";
    $("venue-unknown").innerHTML = "";
    return;
  }
  // Every account: one for a single exchange, each leg's when orders are routed.
  $("venue-summary").innerHTML = '<div class="cards">' + card("Venue", esc(v.kind)) + "</div>" +
    v.accounts.map((a) => accountCards(a.name || "binance", a.status)).join("");
  table($("venue-balances"), ["asset", "exchange", "host", "difference"],
    v.balances.map((b) => [td(b.asset), tn(b.exchange), tn(b.host), tn(b.difference)]));
  table($("venue-unknown"), ["account", "unknown order", "symbol", "client id", "action"],
    v.accounts.flatMap((a) => a.status.unknown_orders.map((o) => [td(a.name), tn(o.order_id, 0), td(o.symbol), td(o.client_order_id), td(o.action)])));
}

function renderModels() {
  const m = state.snap.inference;
  $("models-summary").innerHTML = card("Version", m.version) + card("Device", esc(m.device)) + card("Predictions", m.predictions) +
    card("Last latency", esc(num(m.last_latency_ms, 3)) + " ms") + (m.last_error ? card("Last error", esc(m.last_error)) : "");
  table($("models"), ["member", "architecture", "parameters", "weight", "features", "window"],
    m.members.map((x) => [td(x.name), td(x.architecture), tn(x.parameters, 0), tn(x.weight, 3), tn(x.features, 0), tn(x.seq, 0)]));
}

function renderAlerts() {
  const a = state.snap.alerts;
  const row = (e) => [`<td class="sev-${esc(e.severity)}">${esc(e.severity)}</td>`, td(e.rule), td(e.subject || "service"), td(e.state), tn(e.value, 4), td(time(e.at_ms)), td(e.message)];
  table($("alerts-firing"), ["severity", "rule", "subject", "state", "value", "at", "message"], a.firing.map(row));
  table($("alerts-recent"), ["severity", "rule", "subject", "state", "value", "at", "message"], a.recent.map(row));
  table($("alerts-rules"), ["name", "metric", "threshold", "for (s)", "severity", "subject"],
    a.rules.map((r) => [td(r.name), td(r.metric), td(r.above !== null && r.above !== undefined ? "> " + r.above : "< " + r.below), tn(r.for_seconds, 1), td(r.severity), td(r.subject || "every")]));
}

function render() {
  if (!state.snap) return;
  renderHeader();
  renderDeploymentSelect();
  ({ overview: renderOverview, deployment: renderDeploymentSummary, risk: renderRisk, signals: () => {}, feeds: renderFeeds, models: renderModels, alerts: renderAlerts }[state.page] || renderOverview)();
}

async function refreshCharts() {
  try {
    if (state.page === "overview") {
      const curve = await api("GET", "/v1/account/equity?limit=500");
      draw($("account-equity"), curve.items, "equity");
      draw($("account-drawdown"), curve.items, "drawdown");
    } else if (state.page === "deployment") {
      await refreshDeployment();
    } else if (state.page === "feeds") {
      renderVenue(await api("GET", "/v1/venue"));
      const algos = await api("GET", "/v1/algos");
      table($("algos"), ["id", "deployment", "symbol", "side", "style", "state", "filled", "of", "working", "shortfall (bps)", "vs VWAP (bps)", "fees", "maker", "children"],
        algos.map((a) => [tn(a.id, 0), td(a.deployment), td(a.symbol), td(a.side), td(a.style), td(a.state), tn(a.tca.filled, 8), tn(a.quantity, 8), tn(a.working, 8),
          tn(a.tca.shortfall_bps), tn(a.tca.vwap_slippage_bps), tn(a.tca.fees, 4), td(pct(a.tca.maker_share)), tn(a.tca.children, 0)]));
    } else if (state.page === "signals") {
      const [quality, regimes, signals] = await Promise.all([
        api("GET", "/v1/signals/quality"), api("GET", "/v1/signals/regimes"), api("GET", "/v1/signals?limit=200")]);
      const bp = (x, d = 1) => tn(x === null || x === undefined ? null : x * 1e4, d);
      table($("signals-quality"), ["source", "kind", "symbol", "outcomes", "hit rate", "95 % interval", "mean (bp)", "IC", "rank IC", "edge at 1/4, 1/2, 3/4, 1 (bp)", "MFE (bp)", "MAE (bp)"],
        quality.sources.map((q) => [td(q.source), td(q.kind), td(q.symbol), tn(q.signals, 0), td(pct(q.hit_rate)),
          td(pct(q.hit_rate_low) + " – " + pct(q.hit_rate_high)), bp(q.mean_return), tn(q.ic, 3), tn(q.rank_ic, 3),
          td(q.edge_by_horizon.map((e) => num(e * 1e4, 1)).join(", ")), bp(q.mean_favourable), bp(q.mean_adverse)]));
      table($("signals-optimizers"), ["optimizer", "scored", "IC", "rank IC", "hit rate scored ≥ 0.5", "of", "hit rate scored < 0.5", "of"],
        quality.optimizers.map((o) => [td(o.optimizer), tn(o.scored, 0), tn(o.ic, 3), tn(o.rank_ic, 3), td(pct(o.favoured_hit_rate)), tn(o.favoured, 0),
          td(pct(o.disfavoured_hit_rate)), tn(o.disfavoured, 0)]));
      table($("signals-regimes"), ["symbol", "as of", "volatility", "percentile", "realised vol", "trend", "ADX", "slope", "spread (bp)", "depth (quote)", "impact (bp)", "changes"],
        regimes.map((h) => { const r = h.current; return [td(r.symbol), td(time(r.time_ms)), td(r.volatility), td(pct(r.volatility_percentile)), tn(r.realized_volatility, 5),
          td(r.trend), tn(r.adx, 1), tn(r.slope, 4), tn(r.spread_bps, 2), tn(r.depth_quote, 0), tn(r.impact_bps, 2), tn(h.changes.length, 0)]; }));
      table($("signals"), ["time", "stage", "source", "symbol", "kind", "direction", "strength", "confidence", "horizon (s)"],
        signals.map((s) => [td(time(s.time_ms)), td(s.stage), td(s.source), td(s.symbol), td(s.kind), td(s.direction), tn(s.strength, 3), tn(s.confidence, 3), tn(s.horizon_ms / 1000, 0)]));
    }
  } catch (e) {
    if (e.message !== "unauthorized") say(e.message, true);
  }
}

function show(page) {
  state.page = ["overview", "deployment", "risk", "signals", "feeds", "models", "alerts"].includes(page) ? page : "overview";
  document.querySelectorAll(".page").forEach((p) => (p.hidden = p.id !== "page-" + state.page));
  document.querySelectorAll("header nav a").forEach((a) => a.classList.toggle("active", a.dataset.page === state.page));
  render();
  refreshCharts();
}

async function follow() {
  while (state.token) {
    try {
      const response = await fetch("/v1/stream", { headers: { Authorization: "Bearer " + state.token } });
      if (response.status === 401) { logout("The token was refused."); return; }
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      $("live").textContent = "live"; $("live").classList.add("on");
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = "message", data = "";
          for (const line of frame.split("\n")) {
            if (line.startsWith("event:")) event = line.slice(6).trim();
            else if (line.startsWith("data:")) data += line.slice(5).trim();
          }
          if (!data) continue;
          const payload = JSON.parse(data);
          if (event === "snapshot") { state.snap = payload; render(); if (++state.charts % 5 === 1) refreshCharts(); }
          else if (event === "alert") {
            const m = $("alert-message");
            m.textContent = `${payload.severity} alert ${payload.state}: ${payload.message}`;
            m.className = payload.state === "firing" && payload.severity !== "info" ? "error" : "";
          }
        }
      }
    } catch (e) {
      say("live updates interrupted: " + e.message, true);
    }
    $("live").textContent = "reconnecting"; $("live").classList.remove("on");
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function act(method, path, body, done) {
  try {
    await api(method, path, body);
    say(done);
    refreshCharts();
  } catch (e) {
    if (e.message !== "unauthorized") say(e.message, true);
  }
}

function logout(why) {
  state.token = "";
  sessionStorage.removeItem("stratbox-token");
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = why || "";
}

// Scopes in order: each includes the ones before it.
const SCOPES = ["read", "trade", "admin"];

// Shows only the controls the token's scope may use (the service refuses the others anyway).
function allow(me) {
  $("who").textContent = `${me.name} (${me.scope})`;
  const rank = SCOPES.indexOf(me.scope);
  document.querySelectorAll("[data-needs]").forEach((el) => { el.hidden = rank < SCOPES.indexOf(el.dataset.needs); });
}

async function login(token) {
  state.token = token;
  try {
    allow(await api("GET", "/v1/session"));
  } catch (e) {
    if (e.message !== "unauthorized") logout(e.message);
    return;
  }
  sessionStorage.setItem("stratbox-token", token);
  $("login").hidden = true;
  $("app").hidden = false;
  show((location.hash || "#overview").slice(1));
  follow();
}

$("login-form").addEventListener("submit", (e) => { e.preventDefault(); login($("token").value.trim()); });
$("logout").addEventListener("click", () => logout(""));
window.addEventListener("hashchange", () => show(location.hash.slice(1)));
document.addEventListener("click", (e) => {
  const link = e.target.closest("[data-select]");
  if (link) { state.selected = link.dataset.select; }
});
$("deployment-select").addEventListener("change", (e) => { state.selected = e.target.value; render(); refreshCharts(); });
document.querySelectorAll("[data-action]").forEach((b) => b.addEventListener("click", () => {
  const name = state.selected;
  if (!name) return;
  const action = b.dataset.action;
  if (action === "remove") {
    if (confirm(`Remove ${name}? Its orders are cancelled; its history stays.`)) act("DELETE", `/v1/deployments/${encodeURIComponent(name)}`, undefined, `${name} removed`);
  } else {
    act("POST", `/v1/deployments/${encodeURIComponent(name)}/${action}`, undefined, `${name}: ${action} done`);
  }
}));
$("swap-file").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  if (!file || !state.selected) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  act("POST", `/v1/deployments/${encodeURIComponent(state.selected)}/swap`, { component: btoa(binary) }, `${state.selected} swapped to ${file.name}`);
  e.target.value = "";
});
document.querySelectorAll("[data-state]").forEach((b) => b.addEventListener("click", () =>
  act("POST", "/v1/risk/state", { state: b.dataset.state, reason: "set from the dashboard" }, `account ${b.dataset.state}`)));
$("kill").addEventListener("click", () => {
  if (confirm("Pull the kill switch? Every deployment is HALTED and every open order cancelled.")) act("POST", "/v1/kill", { reason: "kill switch pulled from the dashboard" }, "kill switch pulled");
});

if (state.token) login(state.token); else logout("");
