// chatlake console: the SQL playground (/play). An editor (Ctrl-Enter runs), the catalog of
// /v1/catalog beside it, results as a paged table or a chart, Cancel and EXPLAIN ANALYZE.
// The statement lives in the URL's fragment (#sql=...), so a query can be shared.

import {
  QueryError,
  cancelQuery,
  download,
  drawChart,
  el,
  errorBox,
  getJson,
  isNumericType,
  newQueryId,
  resizeChartsOnWindowResize,
  resultTable,
  runQuery,
  topbar,
} from "/assets/console.js";

/** Rows per page of the result table. */
const PAGE = 100;

const DEFAULT_SQL = "SELECT * FROM turn_message_volume(current_date - 13, current_date, NULL, 'UTC')";

const editor = el("textarea", { class: "editor", spellcheck: "false", "aria-label": "SQL", name: "sql" });
const runButton = el("button", { class: "primary", title: "Ctrl-Enter" }, "Run");
const explainButton = el("button", { title: "Run the statement with EXPLAIN ANALYZE" }, "EXPLAIN ANALYZE");
const cancelButton = el("button", { disabled: true }, "Cancel");
const status = el("span", { class: "status", role: "status" });
const sidebar = el("aside", { class: "sidebar" }, el("h4", {}, "Catalog"), el("div", { class: "empty", style: "padding: 0 12px" }, "Loading…"));
const results = el("div", { class: "results" });

let current = null; // {id, controller} of the running query
let answer = null; // the last result
let page = 0;
let view = "table";

const root = document.getElementById("app");
root.replaceChildren(
  topbar("play"),
  el(
    "main",
    {},
    el(
      "div",
      { class: "play" },
      sidebar,
      el(
        "div",
        { class: "workspace" },
        editor,
        el("div", { class: "toolbar" }, runButton, explainButton, cancelButton, status, el("span", { class: "spacer", style: "flex: 1" }), el("span", { class: "hint" }, "Ctrl-Enter runs")),
        results,
      ),
    ),
  ),
);
resizeChartsOnWindowResize();

const fromUrl = new URLSearchParams(location.hash.slice(1)).get("sql");
editor.value = fromUrl || DEFAULT_SQL;
results.replaceChildren(el("div", { class: "empty" }, "Write a statement and press Run (Ctrl-Enter). Double-click a name on the left to insert it."));

// ---- running ----

async function execute(sql) {
  if (current) return;
  sql = sql.trim().replace(/;\s*$/, "");
  if (!sql) return;
  history.replaceState(null, "", "#" + new URLSearchParams({ sql: editor.value }).toString());
  const id = newQueryId();
  const controller = new AbortController();
  current = { id, controller };
  runButton.disabled = explainButton.disabled = true;
  cancelButton.disabled = false;
  results.dataset.state = "running";
  status.textContent = "Running…";
  const started = performance.now();
  try {
    answer = await runQuery(sql, {
      queryId: id,
      signal: controller.signal,
      onProgress: (bytes) => (status.textContent = `Running… ${(bytes / 1024).toFixed(0)} KiB received`),
    });
    page = 0;
    const explain = /^\s*explain\b/i.test(sql);
    view = explain ? "table" : view;
    answer.explain = explain;
    results.dataset.state = "ok";
    results.dataset.rows = String(answer.row_count);
    const server = answer.elapsed_ms !== undefined ? `${Number(answer.elapsed_ms).toFixed(0)} ms` : "";
    status.textContent = `${answer.row_count.toLocaleString("en-US")} rows · ${server} (${(performance.now() - started).toFixed(0)} ms in the browser)`;
    showResults();
  } catch (err) {
    answer = null;
    const e = err.name === "AbortError" ? new QueryError("canceled by the user", "57014") : err;
    results.dataset.state = "error";
    results.dataset.sqlstate = e.sqlstate || "";
    status.textContent = e.sqlstate ? `Error ${e.sqlstate}` : "Error";
    results.replaceChildren(errorBox(e));
  } finally {
    current = null;
    runButton.disabled = explainButton.disabled = false;
    cancelButton.disabled = true;
  }
}

async function cancel() {
  if (!current) return;
  const { id, controller } = current;
  status.textContent = "Canceling…";
  try {
    await cancelQuery(id);
  } catch (_) {
    // The abort below ends the request anyway.
  }
  // The query answers 57014 once canceled; stop waiting if it does not within a second.
  setTimeout(() => controller.abort(), 1000);
}

/** The statement under the cursor's selection, else the whole editor. */
function statement() {
  const { selectionStart: a, selectionEnd: b, value } = editor;
  return b > a ? value.slice(a, b) : value;
}

runButton.addEventListener("click", () => execute(statement()));
explainButton.addEventListener("click", () => execute("EXPLAIN ANALYZE " + statement().trim().replace(/^explain\s+(analyze\s+)?/i, "")));
cancelButton.addEventListener("click", cancel);
editor.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
    e.preventDefault();
    execute(statement());
  }
});

// ---- results ----

/** A chart spec for a result: x = the first non-numeric column (else the first), y = the numeric ones. */
function autoChart(columns, kind) {
  const numeric = columns.filter((c) => isNumericType(c.type)).map((c) => c.name);
  const xcol = columns.find((c) => !isNumericType(c.type)) || columns[0];
  const y = numeric.filter((n) => n !== xcol.name).slice(0, 8);
  return y.length ? { chart: kind, x: xcol.name, y } : null;
}

function showResults() {
  const { columns, rows } = answer;
  const tab = (key, label) =>
    el("button", { class: view === key ? "current small" : "small", onclick: () => ((view = key), showResults()) }, label);
  const tabs = el(
    "div",
    { class: "tabs" },
    tab("table", "Table"),
    answer.explain ? null : tab("line", "Line"),
    answer.explain ? null : tab("bar", "Bar"),
    el("span", { style: "flex: 1" }),
    el("button", { class: "small", onclick: () => download("result.csv", columns, rows, "csv") }, "CSV"),
    el("button", { class: "small", onclick: () => download("result.tsv", columns, rows, "tsv") }, "TSV"),
  );
  if (view === "table") {
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    const pager = el(
      "div",
      { class: "pager" },
      el("button", { class: "small", disabled: page === 0, onclick: () => ((page -= 1), showResults()) }, "‹ Prev"),
      `rows ${rows.length ? page * PAGE + 1 : 0}–${Math.min(rows.length, (page + 1) * PAGE)} of ${rows.length.toLocaleString("en-US")} · page ${page + 1} of ${pages}`,
      el("button", { class: "small", disabled: page + 1 >= pages, onclick: () => ((page += 1), showResults()) }, "Next ›"),
    );
    results.replaceChildren(tabs, resultTable(columns, rows, { offset: page * PAGE, limit: PAGE, pre: answer.explain, types: true }), pager);
  } else {
    const spec = autoChart(columns, view);
    if (!spec || rows.length === 0) {
      results.replaceChildren(tabs, el("div", { class: "empty" }, rows.length ? "No numeric column to chart." : "No rows."));
      return;
    }
    const chart = el("div", { class: "chart" });
    results.replaceChildren(tabs, chart);
    drawChart(chart, spec, columns, rows.slice(0, 5000));
  }
}

// ---- catalog ----

function insert(text) {
  const { selectionStart: a, selectionEnd: b, value } = editor;
  editor.value = value.slice(0, a) + text + value.slice(b);
  editor.focus();
  editor.selectionStart = editor.selectionEnd = a + text.length;
}

function columnList(columns) {
  return el(
    "div",
    { class: "cols" },
    (columns || []).map((c) => el("div", {}, el("span", {}, c.name), el("span", { class: "t" }, c.type))),
  );
}

async function loadCatalog() {
  let catalog;
  try {
    catalog = await getJson("/v1/catalog");
  } catch (err) {
    sidebar.replaceChildren(el("h4", {}, "Catalog"), el("div", { style: "padding: 0 12px" }, errorBox(err)));
    return;
  }
  const section = (title, items) => (items.length ? [el("h4", {}, title), ...items] : []);
  const tables = (catalog.tables || []).filter((t) => t.kind !== "view");
  const views = (catalog.tables || []).filter((t) => t.kind === "view");
  const item = (label, body, onpick) =>
    el("details", {}, el("summary", { ondblclick: onpick, title: "Double-click to insert" }, label), body);
  sidebar.replaceChildren(
    ...section("Tables", tables.map((t) => item(t.name, columnList(t.columns), () => insert(t.name)))),
    ...section("Views", views.map((t) => item(t.name, columnList(t.columns), () => insert(t.name)))),
    ...section(
      "Reports",
      (catalog.reports || []).map((r) =>
        item(
          r.name,
          el("div", {}, el("div", { class: "desc" }, r.description || ""), el("div", { class: "desc" }, `(${(r.params || []).join(", ")})`), columnList(r.columns)),
          () => insert(`SELECT * FROM ${r.name}(${(r.params || []).map(() => "NULL").join(", ")})`),
        ),
      ),
    ),
    ...section("Functions", (catalog.functions || []).map((f) => item(f.name, el("div", { class: "desc" }, f.description || ""), () => insert(f.name + "(")))),
  );
}

loadCatalog();
