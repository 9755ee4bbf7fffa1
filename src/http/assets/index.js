// chatlake console: the start page (/): the dashboards of sql/dashboards/ and the playground.

import { el, errorBox, getJson, loading, topbar } from "/assets/console.js";

const root = document.getElementById("app");
const main = el("main", {}, loading("Loading the dashboards…"));
root.replaceChildren(topbar("dashboards"), main);

async function start() {
  let dashboards;
  try {
    dashboards = await getJson("/v1/dashboards");
  } catch (err) {
    main.replaceChildren(el("h1", {}, "Dashboards"), errorBox(err));
    return;
  }
  main.replaceChildren(
    el("h1", {}, "Dashboards"),
    el("p", { class: "subtitle" }, "The products' analytics pages, each a file in sql/dashboards/ whose panels are report calls."),
    el(
      "div",
      { class: "cards" },
      dashboards.map((d) =>
        el("a", { class: "card", href: `/d/${encodeURIComponent(d.name)}`, dataset: { dashboard: d.name } }, el("h2", {}, d.title || d.name), el("p", {}, d.description || "")),
      ),
      el(
        "a",
        { class: "card", href: "/play", dataset: { playground: "" } },
        el("h2", {}, "SQL playground"),
        el("p", {}, "Any query over the tables, views, functions and reports: results as a table or a chart, EXPLAIN ANALYZE."),
      ),
    ),
  );
}

start();
