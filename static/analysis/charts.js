// Draws the charts of replies (figure.chart, with their Vega-Lite spec in a JSON script element)
// on the chat page and in the admin. Vega is loaded on the first chart only; specs come from the
// server with their data inline, so nothing is fetched, and expressions are interpreted rather than
// compiled to functions. window.analysisCharts.render(root) draws the charts under root.
"use strict";

(() => {
  let loading = null;

  function load(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`Could not load ${src}`));
      document.head.append(script);
    });
  }

  function vegaLoaded() {
    if (!loading) {
      const assets = document.getElementById("analysis-assets").dataset;
      loading = load(assets.vega).then(() => load(assets.vegaLite)).then(() => load(assets.vegaEmbed));
    }
    return loading;
  }

  // A loader that refuses every URL: a spec's data is inline.
  function noLoading() {
    const refuse = () => Promise.reject(new Error("Charts load no external data."));
    return { load: refuse, sanitize: refuse, http: refuse, file: refuse };
  }

  async function render(root = document) {
    const figures = [...root.querySelectorAll("figure.chart:not([data-drawn])")];
    if (!figures.length) return;
    try {
      await vegaLoaded();
    } catch (error) {
      for (const figure of figures) figure.querySelector(".chart-view").textContent = error.message;
      return;
    }
    for (const figure of figures) {
      figure.dataset.drawn = "true";
      const spec = JSON.parse(document.getElementById(figure.dataset.spec).textContent);
      const view = figure.querySelector(".chart-view");
      try {
        await window.vegaEmbed(view, spec, {
          actions: { export: true, source: false, compiled: false, editor: false },
          renderer: "svg",
          ast: true,
          loader: noLoading(),
        });
      } catch (error) {
        view.textContent = `This chart could not be drawn: ${error.message}`;
      }
    }
  }

  window.analysisCharts = { render };
  document.addEventListener("DOMContentLoaded", () => render());
})();
