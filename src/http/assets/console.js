// chatlake console: what the pages share — the JSON API, SQL literals, value formatting,
// result tables, ECharts charts, CSV/TSV downloads and the SQL dialog. Plain ES module, no
// build step; ECharts is the vendored global `echarts` (assets/vendor/echarts.min.js).

/** An error answered by the API: `message` and `sqlstate` (SQLSTATE, e.g. "42P01"). */
export class QueryError extends Error {
  constructor(message, sqlstate, status) {
    super(message);
    this.sqlstate = sqlstate || "";
    this.status = status || 0;
  }
}

/** The `{"error": {...}}` body of a failed answer as a QueryError. */
function errorOf(body, status) {
  const e = body && body.error ? body.error : { message: `HTTP ${status}` };
  return new QueryError(e.message || `HTTP ${status}`, e.sqlstate, status);
}

/** GET a JSON document of the API; throws QueryError. A 401 goes to the login page. */
export async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (res.status === 401) {
    location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch (_) {
    throw new QueryError(`${path}: not JSON (HTTP ${res.status})`, "", res.status);
  }
  if (!res.ok) throw errorOf(body, res.status);
  return body;
}

/** Parses a /v1/query answer. The answer is one JSON object; an error after rows started
 * streaming ends it with a final `{"error": ...}` record, so a body that is not one JSON
 * document is searched from its end for that record. */
export function parseQueryAnswer(text, status) {
  try {
    const body = JSON.parse(text);
    if (body && body.error) throw errorOf(body, status);
    return body;
  } catch (e) {
    if (e instanceof QueryError) throw e;
    const at = text.lastIndexOf('{"error"');
    let tail = at >= 0 ? text.slice(at).trim() : "";
    while (tail.length > 0) {
      let record = null;
      try {
        record = JSON.parse(tail);
      } catch (_) {
        tail = tail.slice(0, -1);
        continue;
      }
      if (record && record.error) throw errorOf(record, status);
      break;
    }
    throw new QueryError(`the answer was cut short (${text.length} bytes, HTTP ${status})`, "", status);
  }
}

/** A fresh id for `POST /v1/query` (used by cancel). */
export function newQueryId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return "q-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
}

/**
 * Runs one statement through `POST /v1/query`.
 * @param {string} sql the statement
 * @param {object} opts `settings` (e.g. TimeZone, chatlake.tenant), `queryId`, `signal`,
 *   `onProgress(bytes)` called while the answer streams in
 * @returns {Promise<{columns, rows, row_count, elapsed_ms}>} or throws QueryError
 */
export async function runQuery(sql, opts = {}) {
  const body = { sql };
  if (opts.settings) body.settings = opts.settings;
  if (opts.queryId) body.query_id = opts.queryId;
  const res = await fetch("/v1/query", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    credentials: "same-origin",
    body: JSON.stringify(body),
    signal: opts.signal,
  });
  if (res.status === 401) {
    location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
  }
  let text = "";
  if (res.body && res.body.getReader && opts.onProgress) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      text += decoder.decode(value, { stream: true });
      opts.onProgress(bytes);
    }
    text += decoder.decode();
  } else {
    text = await res.text();
  }
  const answer = parseQueryAnswer(text, res.status);
  if (!res.ok) throw new QueryError(`HTTP ${res.status}`, "", res.status);
  if (answer.row_count === undefined) answer.row_count = answer.rows.length;
  return answer;
}

/** Asks the server to cancel query `queryId` (the query then fails with 57014). */
export async function cancelQuery(queryId) {
  await fetch(`/v1/query/${encodeURIComponent(queryId)}/cancel`, { method: "POST", credentials: "same-origin" });
}

// ---- SQL literals ----

/** A text value as an SQL literal ('…' with quotes doubled), NULL for null/undefined/"". */
export function textLiteral(value) {
  if (value === null || value === undefined || value === "") return "NULL";
  return "'" + String(value).replace(/'/g, "''") + "'";
}

/** A YYYY-MM-DD date as `DATE '…'`. */
export function dateLiteral(value) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value || "")) return "NULL";
  return `DATE '${value}'`;
}

/** Replaces the placeholders of a panel's SQL ($from_date, $to_date, $channel_id, $tz,
 * $campaign_id, $tenant_id) by literals of the filter values. Longest names first, so a
 * placeholder that is a prefix of another is not replaced inside it. */
export function bindPlaceholders(sql, f) {
  const values = {
    from_date: dateLiteral(f.from),
    to_date: dateLiteral(f.to),
    channel_id: textLiteral(f.channel),
    campaign_id: textLiteral(f.campaign),
    tenant_id: textLiteral(f.tenant),
    tz: textLiteral(f.tz),
  };
  return sql.replace(/\$([a-z_]+)/g, (whole, name) => (name in values ? values[name] : whole));
}

// ---- values ----

const NUMERIC_TYPES = /^(smallint|integer|bigint|real|double precision|numeric|decimal|int2|int4|int8|float4|float8)/;

/** Whether a column of Postgres type `type` holds numbers. */
export function isNumericType(type) {
  return NUMERIC_TYPES.test(type || "");
}

/** A value as a number for charts (numeric and big integers come as strings); null stays null. */
export function toNumber(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return v;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

const intFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const fracFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 4 });

/** A number as shown in a number panel: thousands separators, at most 4 decimals. */
export function formatNumber(v, type) {
  if (typeof v === "number") return Number.isInteger(v) ? intFormat.format(v) : fracFormat.format(v);
  if (typeof v === "string" && isNumericType(type) && /^-?\d+(\.\d+)?$/.test(v)) {
    return v.includes(".") ? fracFormat.format(Number(v)) : v.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  return formatValue(v, type);
}

/** A value as shown in a result table: as the API gave it (so codes and ids read as they
 * are), timestamps to the second without the zone offset, arrays/objects as JSON, null as NULL. */
export function formatValue(v, type) {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "string" && /^timestamp/.test(type || "")) {
    const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})/.exec(v);
    if (m) return `${m[1]} ${m[2]}`;
  }
  if (typeof v === "number" && !Number.isInteger(v)) return String(Math.round(v * 1e4) / 1e4);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

// ---- DOM ----

/** Creates an element: `el("div", {class: "x", dataset: {...}}, child, "text", ...)`. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** The top bar of every page; `current` is "dashboards" or "play". */
export function topbar(current) {
  return el(
    "div",
    { class: "topbar" },
    el("a", { class: "brand", href: "/" }, "chat", el("span", {}, "lake")),
    el(
      "nav",
      {},
      el("a", { href: "/", class: current === "dashboards" ? "current" : "" }, "Dashboards"),
      el("a", { href: "/play", class: current === "play" ? "current" : "" }, "SQL playground"),
    ),
    el("div", { class: "spacer" }),
  );
}

/** An error box: the message and its SQLSTATE. */
export function errorBox(err) {
  return el(
    "div",
    { class: "error", role: "alert", dataset: { sqlstate: err.sqlstate || "" } },
    err.sqlstate ? el("span", { class: "sqlstate" }, err.sqlstate) : null,
    err.message || String(err),
  );
}

/** A loading indicator. */
export function loading(text = "Loading…") {
  return el("div", { class: "loading" }, el("div", { class: "spinner" }), text);
}

/**
 * A result table. Every cell carries its raw JSON value in `data-value` (tests read it).
 * @param {Array} columns `[{name, type}]`
 * @param {Array} rows rows of values
 * @param {object} opts `offset`, `limit` (rows shown), `pre` (keep whitespace, for plans),
 *   `types` (show the column types in the header)
 */
export function resultTable(columns, rows, opts = {}) {
  const offset = opts.offset || 0;
  const shown = rows.slice(offset, opts.limit ? offset + opts.limit : undefined);
  const head = el("tr", {}, columns.map((c) => el("th", { title: c.type }, c.name, opts.types ? el("span", { class: "type" }, c.type) : null)));
  const body = shown.map((row) =>
    el(
      "tr",
      {},
      row.map((v, i) => {
        const numeric = typeof v === "number" || isNumericType(columns[i] && columns[i].type);
        const cls = [v === null ? "null" : "", numeric ? "num" : "", opts.pre ? "pre" : ""].join(" ").trim();
        return el("td", { class: cls, dataset: { value: JSON.stringify(v) } }, formatValue(v, columns[i] && columns[i].type));
      }),
    ),
  );
  return el("div", { class: "table-wrap" }, el("table", { class: "rows" }, el("thead", {}, head), el("tbody", {}, body)));
}

// ---- downloads ----

function delimited(columns, rows, sep) {
  const quote = (v) => {
    if (v === null || v === undefined) return "";
    const s = typeof v === "object" ? JSON.stringify(v) : String(v);
    return /["\n\r]/.test(s) || s.includes(sep) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  const lines = [columns.map((c) => quote(c.name)).join(sep)];
  for (const row of rows) lines.push(row.map(quote).join(sep));
  return lines.join("\r\n") + "\r\n";
}

/** Offers `rows` as a file: format "csv" or "tsv". */
export function download(filename, columns, rows, format = "csv") {
  const text = delimited(columns, rows, format === "tsv" ? "\t" : ",");
  const blob = new Blob([text], { type: format === "tsv" ? "text/tab-separated-values" : "text/csv" });
  const a = el("a", { href: URL.createObjectURL(blob), download: filename });
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}

/** A file-name-safe slug. */
export function slug(s) {
  return String(s).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

// ---- SQL dialog ----

/** Shows `sql` in a dialog with a Copy button. */
export function showSql(title, sql) {
  const pre = el("pre", { class: "sql-text" }, sql);
  const copy = el("button", { class: "primary" }, "Copy");
  const close = el("button", {}, "Close");
  const dialog = el("dialog", { class: "sql-dialog" }, el("header", {}, el("h3", {}, title), copy, close), pre);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(sql);
    } catch (_) {
      const range = document.createRange();
      range.selectNodeContents(pre);
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      document.execCommand("copy");
    }
    copy.textContent = "Copied";
    setTimeout(() => (copy.textContent = "Copy"), 1500);
  });
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

// ---- charts ----

/** The palette of every chart. */
export const PALETTE = ["#3161c8", "#e07b39", "#3a9e74", "#c8504a", "#8461c4", "#c7a02b", "#3c9fb5", "#7d8797", "#d46fa8", "#5c7f2e"];

function columnIndex(columns, name) {
  const i = columns.findIndex((c) => c.name === name);
  if (i < 0) throw new QueryError(`the result has no column "${name}" (columns: ${columns.map((c) => c.name).join(", ")})`);
  return i;
}

/** Series of a line/bar chart: one per y column, or, when a single y column comes with other
 * text columns ("long" rows such as day, category, events), one per value of those columns. */
function xySeries(columns, rows, x, ys) {
  const xi = columnIndex(columns, x);
  const categories = [];
  const seen = new Map();
  for (const r of rows) {
    const k = r[xi] === null ? "NULL" : String(r[xi]);
    if (!seen.has(k)) {
      seen.set(k, categories.length);
      categories.push(k);
    }
  }
  const yis = ys.map((y) => columnIndex(columns, y));
  const keys = columns.map((c, i) => i).filter((i) => i !== xi && !yis.includes(i));
  if (ys.length === 1 && keys.length > 0) {
    const byKey = new Map();
    for (const r of rows) {
      const name = keys.map((i) => (r[i] === null ? "NULL" : String(r[i]))).join(" / ");
      if (!byKey.has(name)) byKey.set(name, new Array(categories.length).fill(0));
      byKey.get(name)[seen.get(r[xi] === null ? "NULL" : String(r[xi]))] += toNumber(r[yis[0]]) || 0;
    }
    return { categories, series: [...byKey.entries()].map(([name, data]) => ({ name, data })) };
  }
  const series = yis.map((yi, n) => {
    const data = new Array(categories.length).fill(null);
    for (const r of rows) data[seen.get(r[xi] === null ? "NULL" : String(r[xi]))] = toNumber(r[yi]);
    return { name: ys[n], data };
  });
  return { categories, series };
}

/** ECharts options for a chart kind over a result. `spec`: chart, x, y (list), value. */
export function chartOption(spec, columns, rows) {
  const base = {
    color: PALETTE,
    animation: false,
    textStyle: { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" },
    tooltip: { trigger: "item", confine: true },
  };
  const ys = spec.y || [];
  switch (spec.chart) {
    case "line":
    case "bar":
    case "stacked_bar": {
      const { categories, series } = xySeries(columns, rows, spec.x, ys);
      const type = spec.chart === "line" ? "line" : "bar";
      const longLabels = categories.length > 3 && categories.some((c) => c.length > 12);
      return {
        ...base,
        tooltip: { trigger: "axis", confine: true },
        legend: { type: "scroll", top: 0, left: 0, itemWidth: 12, itemHeight: 8 },
        grid: { left: longLabels ? 48 : 8, right: 12, top: 30, bottom: 4, containLabel: true },
        xAxis: { type: "category", data: categories, axisTick: { alignWithLabel: true }, axisLabel: { hideOverlap: true, overflow: "truncate", width: longLabels ? 110 : 140, rotate: longLabels ? 25 : 0 } },
        yAxis: { type: "value", splitLine: { lineStyle: { color: "#eef0f3" } } },
        series: series.map((s) => ({
          ...s,
          type,
          stack: spec.chart === "stacked_bar" ? "total" : undefined,
          showSymbol: categories.length <= 31,
          barMaxWidth: 28,
          emphasis: { focus: "series" },
        })),
      };
    }
    case "pie": {
      const xi = columnIndex(columns, spec.x);
      const yi = columnIndex(columns, ys[0]);
      return {
        ...base,
        tooltip: { trigger: "item", confine: true, formatter: "{b}: {c} ({d}%)" },
        legend: { type: "scroll", bottom: 0, left: "center", itemWidth: 10, itemHeight: 10 },
        series: [
          {
            type: "pie",
            radius: ["38%", "70%"],
            center: ["50%", "46%"],
            label: { formatter: "{d}%" },
            data: rows.map((r) => ({ name: r[xi] === null ? "NULL" : String(r[xi]), value: toNumber(r[yi]) })),
          },
        ],
      };
    }
    case "funnel": {
      const xi = columnIndex(columns, spec.x);
      const yi = columnIndex(columns, ys[0]);
      return {
        ...base,
        tooltip: { trigger: "item", confine: true, formatter: "{b}: {c}" },
        series: [
          {
            type: "funnel",
            sort: "none",
            left: "10%",
            width: "80%",
            top: 8,
            bottom: 8,
            gap: 2,
            minSize: "30%",
            label: { position: "inside", formatter: "{b}: {c}", color: "#fff" },
            data: rows.map((r) => ({ name: String(r[xi]), value: toNumber(r[yi]) })),
          },
        ],
      };
    }
    case "heatmap": {
      const xi = columnIndex(columns, spec.x);
      const yi = columnIndex(columns, ys[0]);
      const vi = columnIndex(columns, spec.value);
      const xs = [];
      const yvals = [];
      for (const r of rows) {
        if (!xs.includes(String(r[xi]))) xs.push(String(r[xi]));
        if (!yvals.includes(String(r[yi]))) yvals.push(String(r[yi]));
      }
      const data = rows.map((r) => [xs.indexOf(String(r[xi])), yvals.indexOf(String(r[yi])), toNumber(r[vi])]);
      const max = Math.max(1, ...data.map((d) => d[2] || 0));
      return {
        ...base,
        tooltip: { confine: true, formatter: (p) => `${yvals[p.value[1]]} ${xs[p.value[0]]}: ${p.value[2]}` },
        grid: { left: 8, right: 12, top: 8, bottom: 40, containLabel: true },
        xAxis: { type: "category", data: xs, splitArea: { show: true } },
        yAxis: { type: "category", data: yvals, inverse: true, splitArea: { show: true } },
        visualMap: { min: 0, max, calculable: false, orient: "horizontal", left: "center", bottom: 0, itemHeight: 120, inRange: { color: ["#f2f5fc", "#9db4e8", "#3161c8", "#1a3a85"] } },
        series: [{ type: "heatmap", data, emphasis: { itemStyle: { borderColor: "#333", borderWidth: 1 } } }],
      };
    }
    default:
      throw new QueryError(`unknown chart kind "${spec.chart}"`);
  }
}

/** Draws a chart into `node` (replacing the one there); returns the ECharts instance. */
export function drawChart(node, spec, columns, rows) {
  const old = window.echarts.getInstanceByDom(node);
  if (old) old.dispose();
  const chart = window.echarts.init(node, null, { renderer: "canvas" });
  chart.setOption(chartOption(spec, columns, rows));
  return chart;
}

/** Resizes every chart of the page when the window does. */
export function resizeChartsOnWindowResize() {
  let pending = null;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      document.querySelectorAll(".chart").forEach((n) => {
        const c = window.echarts.getInstanceByDom(n);
        if (c) c.resize();
      });
    }, 100);
  });
}
