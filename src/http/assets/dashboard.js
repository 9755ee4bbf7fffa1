// chatlake console: one dashboard (/d/{name}). Reads the dashboard from /v1/dashboards/{name}
// and the filter choices from /v1/scope, keeps the filters in the URL, binds them into every
// panel's SQL as literals and runs it through /v1/query (identical SQL runs once).

import {
  bindPlaceholders,
  download,
  drawChart,
  el,
  errorBox,
  formatNumber,
  getJson,
  loading,
  resizeChartsOnWindowResize,
  resultTable,
  runQuery,
  showSql,
  slug,
  textLiteral,
  topbar,
} from "/assets/console.js";

/** The longest range the date picker allows, in days (the products' limit). */
const MAX_DAYS = 365;

/** Date presets: URL value, label. */
const PRESETS = [
  ["today", "Today"],
  ["yesterday", "Yesterday"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
  ["mtd", "Month-to-date"],
  ["last_month", "Last month"],
  ["custom", "Custom"],
];

// ---- dates (YYYY-MM-DD strings, calendar arithmetic in UTC) ----

function todayIn(tz) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: tz || "UTC", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  } catch (_) {
    return new Date().toISOString().slice(0, 10);
  }
}

function addDays(day, n) {
  const d = new Date(day + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function daysBetween(from, to) {
  return Math.round((Date.parse(to + "T00:00:00Z") - Date.parse(from + "T00:00:00Z")) / 86400000);
}

/** The [from, to] of a preset, `today` being the local date in the chosen zone. */
function presetRange(preset, today) {
  switch (preset) {
    case "today":
      return [today, today];
    case "yesterday":
      return [addDays(today, -1), addDays(today, -1)];
    case "7d":
      return [addDays(today, -6), today];
    case "30d":
      return [addDays(today, -29), today];
    case "last_month": {
      const first = today.slice(0, 8) + "01";
      const last = addDays(first, -1);
      return [last.slice(0, 8) + "01", last];
    }
    default:
      return [today.slice(0, 8) + "01", today];
  }
}

// ---- state ----

const name = decodeURIComponent(location.pathname.replace(/^\/d\//, "").replace(/\/$/, ""));
const params = new URLSearchParams(location.search);
const state = {
  preset: params.get("preset") || (params.get("from") || params.get("to") ? "custom" : "mtd"),
  from: params.get("from"),
  to: params.get("to"),
  tenant: params.get("tenant"),
  channel: params.get("channel"),
  tz: params.get("tz"),
  campaign: params.get("campaign"),
};
let dashboard = null;
let scope = null;
let campaigns = [];
/** A campaign named by the URL is kept on the first load even outside the period. */
let keepUrlCampaign = Boolean(params.get("campaign"));
let notes = [];
/** The newest day with messages of the chosen tenant (`/v1/scope?tenant=`), else of every tenant. */
let dataUntil = null;

const root = document.getElementById("app");
root.replaceChildren(topbar("dashboards"), el("main", {}, loading("Loading the dashboard…")));
resizeChartsOnWindowResize();

function has(filter) {
  return (dashboard.filters || []).includes(filter);
}

function channelsOf(tenant) {
  return scope.channels.filter((c) => c.tenant_id === tenant);
}

/** The zone the tz filter defaults to: the channel's, else the tenant's, else UTC. */
function defaultZone() {
  const ch = scope.channels.find((c) => c.channel_id === state.channel);
  const te = scope.tenants.find((t) => t.tenant_id === state.tenant);
  return (ch && ch.timezone) || (te && te.timezone) || "UTC";
}

/** Fills in what the URL left out (tenant, channel, zone, dates) and checks what it gave. */
function settle() {
  notes = [];
  if (!scope.tenants.some((t) => t.tenant_id === state.tenant)) state.tenant = scope.tenants.length ? scope.tenants[0].tenant_id : null;
  const chans = channelsOf(state.tenant);
  if (has("channel") && !chans.some((c) => c.channel_id === state.channel)) {
    // Pre-select the tenant's first WhatsApp channel (most panels are WhatsApp's), else its first.
    const wa = chans.find((c) => c.platform === "whatsapp");
    state.channel = wa ? wa.channel_id : chans.length ? chans[0].channel_id : null;
  }
  if (!has("channel")) state.channel = null;
  if (!state.tz || !has("tz")) state.tz = defaultZone();
  if (has("range")) {
    const today = todayIn(state.tz);
    if (state.preset !== "custom" || !/^\d{4}-\d{2}-\d{2}$/.test(state.from || "") || !/^\d{4}-\d{2}-\d{2}$/.test(state.to || "")) {
      if (state.preset === "custom") state.preset = "mtd";
      [state.from, state.to] = presetRange(state.preset, today);
    }
    if (state.to < state.from) [state.from, state.to] = [state.to, state.from];
    if (daysBetween(state.from, state.to) + 1 > MAX_DAYS) {
      state.from = addDays(state.to, -(MAX_DAYS - 1));
      notes.push(`The range is limited to ${MAX_DAYS} days: it starts on ${state.from}.`);
    }
  } else {
    state.from = state.to = null;
  }
}

/** Writes the filters into the URL (replaceState: one history entry per change). */
function saveUrl(push) {
  const q = new URLSearchParams();
  if (has("range")) {
    q.set("preset", state.preset);
    if (state.preset === "custom") {
      q.set("from", state.from);
      q.set("to", state.to);
    }
  }
  if (state.tenant) q.set("tenant", state.tenant);
  if (has("channel") && state.channel) q.set("channel", state.channel);
  if (has("tz") && state.tz) q.set("tz", state.tz);
  if (has("campaign") && state.campaign) q.set("campaign", state.campaign);
  const url = location.pathname + "?" + q.toString();
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}

/** Settings sent with every query: the tenant, and the zone timestamps are shown in. */
function settings() {
  const s = {};
  if (state.tenant) s["chatlake.tenant"] = state.tenant;
  if (state.tz) s.TimeZone = state.tz;
  return s;
}

/**
 * The campaigns of the chosen tenant and channel that ran in the chosen period, newest first.
 *
 * A campaign ran from its start (`started_at`, else `scheduled_at`, else `created_at`) to its
 * end (`finished_at`, else its start), as local days in the chosen zone; it is listed when that
 * span overlaps the period. When none did, the newest campaign that started before the period
 * is offered instead (labelled so), so the panels still show a campaign. A campaign named by
 * the URL stays selected on the page's first load even outside the period (a shared link shows
 * what it showed), labelled "outside this period"; a later change of period selects the newest
 * campaign of the new period. Without a range filter every campaign of the channel is listed.
 */
async function loadCampaigns() {
  campaigns = [];
  if (!has("campaign")) return;
  const conditions = [];
  if (state.channel) conditions.push(`channel_id = ${textLiteral(state.channel)}`);
  // A dashboard may narrow the list to some kinds (`campaign_kinds = ["push"]`).
  if (Array.isArray(dashboard.campaign_kinds) && dashboard.campaign_kinds.length) {
    conditions.push(`kind IN (${dashboard.campaign_kinds.map(textLiteral).join(", ")})`);
  }
  const where = conditions.length ? `WHERE ${conditions.join(" AND ")}` : "";
  const tz = textLiteral(state.tz || "UTC");
  const answer = await runQuery(
    `SELECT campaign_id, name, kind,
       CAST(local_date(COALESCE(started_at, scheduled_at, created_at), ${tz}) AS VARCHAR) AS first_day,
       CAST(local_date(COALESCE(finished_at, started_at, scheduled_at, created_at), ${tz}) AS VARCHAR) AS last_day
     FROM campaigns ${where}
     ORDER BY COALESCE(started_at, scheduled_at, created_at) DESC, campaign_id`,
    { settings: settings() },
  );
  const all = answer.rows.map((r) => ({ id: r[0], name: r[1], kind: r[2], first: r[3], last: r[4], note: "" }));
  if (!has("range") || !state.from || !state.to) {
    campaigns = all;
  } else {
    campaigns = all.filter((c) => c.first <= state.to && c.last >= state.from);
    if (!campaigns.length) {
      const earlier = all.find((c) => c.first < state.from);
      if (earlier) campaigns = [{ ...earlier, note: "before this period" }];
    }
  }
  const chosen = all.find((c) => c.id === state.campaign);
  if (chosen && keepUrlCampaign && !campaigns.some((c) => c.id === chosen.id)) {
    campaigns.unshift({ ...chosen, note: "outside this period" });
  }
  keepUrlCampaign = false;
  if (!campaigns.some((c) => c.id === state.campaign)) state.campaign = campaigns.length ? campaigns[0].id : null;
}

// ---- filter bar ----

function select(label, name, options, value, onchange) {
  return el(
    "label",
    {},
    label,
    el(
      "select",
      { name, onchange: (e) => onchange(e.target.value) },
      options.map(([v, text]) => el("option", { value: v, selected: v === value }, text)),
    ),
  );
}

function zones() {
  const list = new Set(["UTC", defaultZone(), state.tz]);
  scope.tenants.forEach((t) => t.timezone && list.add(t.timezone));
  scope.channels.forEach((c) => c.timezone && list.add(c.timezone));
  const all = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
  return [...list].filter(Boolean).concat(all.filter((z) => !list.has(z)));
}

function filterBar() {
  const bar = el("div", { class: "filters", role: "search" });
  if (has("range")) {
    bar.append(
      select("Period", "preset", PRESETS, state.preset, (v) => {
        state.preset = v;
        if (v !== "custom") [state.from, state.to] = presetRange(v, todayIn(state.tz));
        refresh(true);
      }),
    );
    const from = el("input", { type: "date", name: "from", value: state.from, max: state.to });
    const to = el("input", { type: "date", name: "to", value: state.to, min: state.from });
    const apply = () => {
      if (!from.value || !to.value) return;
      state.preset = "custom";
      state.from = from.value;
      state.to = to.value;
      refresh(true);
    };
    from.addEventListener("change", apply);
    to.addEventListener("change", apply);
    bar.append(el("label", {}, "From – to", el("div", { class: "range-dates" }, from, "–", to)));
  }
  bar.append(
    select("Tenant", "tenant", scope.tenants.map((t) => [t.tenant_id, t.name || t.tenant_id]), state.tenant, (v) => {
      state.tenant = v;
      state.channel = null;
      state.campaign = null;
      state.tz = null;
      reload(true);
    }),
  );
  if (has("channel")) {
    const chans = channelsOf(state.tenant).map((c) => [c.channel_id, `${c.name || c.channel_id} (${c.platform})`]);
    bar.append(
      select("Channel", "channel", chans, state.channel, (v) => {
        state.channel = v;
        state.campaign = null;
        state.tz = null;
        reload(true);
      }),
    );
  }
  if (has("tz")) {
    bar.append(
      select("Time zone", "tz", zones().map((z) => [z, z === defaultZone() ? `${z} (channel's)` : z]), state.tz, (v) => {
        state.tz = v;
        refresh(true);
      }),
    );
  }
  if (has("campaign")) {
    const opts = campaigns.map((c) => [c.id, `${c.name || c.id} · ${c.kind}${c.note ? ` (${c.note})` : ""}`]);
    bar.append(
      select("Campaign", "campaign", opts.length ? opts : [["", "no campaign"]], state.campaign || "", (v) => {
        state.campaign = v;
        refresh(true, { campaigns: false });
      }),
    );
  }
  if (has("range")) bar.append(el("span", { class: "note" }, `${state.from} – ${state.to} (${state.tz})`));
  return bar;
}

// ---- panels ----

/** Runs each distinct SQL once per view. */
let runs = new Map();

function run(sql) {
  if (!runs.has(sql)) runs.set(sql, runQuery(sql, { settings: settings() }));
  return runs.get(sql);
}

function panelWidth(p) {
  return Math.max(1, Math.min(12, p.width || (p.chart === "number" ? 3 : 6)));
}

function renderPanel(p, index) {
  const sql = bindPlaceholders(p.sql, state);
  const body = el("div", { class: "body" }, loading());
  const description = p.description || "";
  const csv = el("button", { class: "small", disabled: true, title: "Download the panel's rows as CSV" }, "CSV");
  const tsv = p.chart === "table" ? el("button", { class: "small", disabled: true, title: "Download the panel's rows as TSV" }, "TSV") : null;
  const node = el(
    "section",
    {
      class: `panel kind-${p.chart}`,
      style: `grid-column: span ${panelWidth(p)}`,
      dataset: { panel: String(index), title: p.title, chart: p.chart, state: "loading", sql, description },
    },
    el(
      "header",
      {},
      el("h3", { title: p.title }, p.title),
      description ? el("span", { class: "info", tabindex: "0", "aria-label": description }, "i", el("span", { class: "tip" }, description)) : null,
      el("button", { class: "small", title: "Show the panel's SQL", onclick: () => showSql(p.title, sql) }, "SQL"),
      csv,
      tsv,
    ),
    body,
  );
  run(sql).then(
    (answer) => {
      const file = `${name}-${slug(p.title)}${state.from ? `-${state.from}-${state.to}` : ""}`;
      csv.disabled = false;
      csv.onclick = () => download(file + ".csv", answer.columns, answer.rows, "csv");
      if (tsv) {
        tsv.disabled = false;
        tsv.onclick = () => download(file + ".tsv", answer.columns, answer.rows, "tsv");
      }
      node.dataset.rows = String(answer.rows.length);
      try {
        node.dataset.state = fillPanel(p, body, answer);
      } catch (err) {
        body.replaceChildren(errorBox(err));
        node.dataset.state = "error";
      }
    },
    (err) => {
      body.replaceChildren(errorBox(err));
      node.dataset.state = "error";
    },
  );
  return node;
}

/** Whether a chart has something to draw: a value column with a number other than 0. */
function drawable(p, columns, rows) {
  const names = p.chart === "heatmap" ? [p.value] : p.y || [];
  const idx = names.map((n) => columns.findIndex((c) => c.name === n)).filter((i) => i >= 0);
  return rows.some((r) => idx.some((i) => r[i] !== null && Number(r[i]) !== 0));
}

/** Fills a panel's body with its answer; returns "ok", or "empty" when there is nothing to
 * show (no rows; a chart whose values are all 0 or NULL). */
function fillPanel(p, body, answer) {
  const { columns, rows } = answer;
  if (rows.length === 0) {
    body.replaceChildren(el("div", { class: "empty" }, "No rows for these filters."));
    return "empty";
  }
  if (p.chart !== "number" && p.chart !== "table" && !drawable(p, columns, rows)) {
    body.replaceChildren(el("div", { class: "empty" }, "Nothing to draw for these filters: every value is 0 or NULL."));
    return "empty";
  }
  if (p.chart === "number") {
    const i = columns.findIndex((c) => c.name === p.value);
    if (i < 0) throw new Error(`the result has no column "${p.value}"`);
    const v = rows[0][i];
    const text = typeof v === "string" && !/^-?\d+(\.\d+)?$/.test(v);
    body.replaceChildren(
      el("div", { class: text ? "number text" : "number", dataset: { value: JSON.stringify(v), column: p.value } }, v === null ? "–" : formatNumber(v, columns[i].type)),
    );
  } else if (p.chart === "table") {
    body.replaceChildren(resultTable(columns, rows), el("div", { class: "table-foot" }, `${rows.length.toLocaleString("en-US")} rows · ${Math.round(answer.elapsed_ms || 0)} ms`));
  } else {
    const chart = el("div", { class: "chart" });
    body.replaceChildren(chart);
    drawChart(chart, p, columns, rows);
  }
  return "ok";
}

// ---- page ----

function render() {
  document.querySelectorAll(".chart").forEach((n) => {
    const chart = window.echarts.getInstanceByDom(n);
    if (chart) chart.dispose();
  });
  const main = el("main", {});
  main.append(el("h1", {}, dashboard.title), el("p", { class: "subtitle" }, dashboard.description || ""), filterBar());
  for (const n of notes) main.append(el("div", { class: "banner" }, n));
  const until = dataUntil;
  const grid = el("div", { class: "grid" });
  if (has("range") && until && state.from > until) {
    main.append(el("div", { class: "banner", dataset: { noDataAfter: until } }, `No data after ${until}: the chosen range starts on ${state.from}.`));
  } else {
    runs = new Map();
    dashboard.panels.forEach((p, i) => grid.append(renderPanel(p, i)));
  }
  main.append(grid);
  root.replaceChildren(topbar("dashboards"), main);
  document.title = `${dashboard.title} · chatlake`;
}

/** Re-renders after a change of dates, zone or campaign; the campaigns of the period are listed
 * again unless only the campaign changed. */
async function refresh(push, { campaigns: relist = true } = {}) {
  settle();
  if (relist) {
    try {
      await loadCampaigns();
    } catch (err) {
      notes.push(`Could not list the campaigns: ${err.message}`);
    }
  }
  saveUrl(push);
  render();
}

/** Re-renders after a change of tenant or channel (the campaigns change too). */
async function reload(push) {
  settle();
  const [campaignsLoaded, tenantScope] = await Promise.allSettled([
    loadCampaigns(),
    state.tenant ? getJson(`/v1/scope?tenant=${encodeURIComponent(state.tenant)}`) : Promise.resolve(scope),
  ]);
  if (campaignsLoaded.status === "rejected") notes.push(`Could not list the campaigns: ${campaignsLoaded.reason.message}`);
  dataUntil = tenantScope.status === "fulfilled" ? tenantScope.value.data_until : scope.data_until;
  saveUrl(push);
  render();
}

async function start() {
  try {
    [dashboard, scope] = await Promise.all([getJson(`/v1/dashboards/${encodeURIComponent(name)}`), getJson("/v1/scope")]);
  } catch (err) {
    root.replaceChildren(topbar("dashboards"), el("main", {}, el("h1", {}, name), errorBox(err)));
    return;
  }
  dashboard.panels = dashboard.panels || dashboard.panel || [];
  await reload(false);
}

window.addEventListener("popstate", () => location.reload());
start();
