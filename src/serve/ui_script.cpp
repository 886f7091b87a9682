// The script of GET /ui (serve/ui.hpp). Everything the API returns reaches the page as text nodes or attribute
// values (el() below, textContent), never as HTML. The bar segments carry data-term and data-bytes (exact bytes
// per GPU) so that tests/serve/test_ui_browser.cpp can compare the drawing with POST /plan's numbers.
#include <string>

#include "serve/ui.hpp"

namespace vramcalc::serve {

namespace {

// Helpers, and the per-GPU terms of each memory model as the JSON holds them (docs/json-schema.md).
constexpr std::string_view kModel = R"JS("use strict";
(() => {
const GIB = 1073741824;  // GiB = 2^30 bytes
const byId = (id) => document.getElementById(id);
const form = byId("plan-form");
const statusLine = byId("status");
const plansBox = byId("plans");
const result = byId("result");
const skuSelect = byId("f-sku");
const engineSelect = byId("f-engine");
const estimatorSelect = byId("f-estimator");
const extrasLine = byId("extras");
let extras = {};      // options from the address that the form has no field for, sent as they are
let inFlight = null;  // the AbortController of the request in progress

// An element with attributes and children: strings become text nodes, so nothing is ever parsed as HTML.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const gib = (bytes) => (bytes / GIB).toFixed(2) + " GiB";
const share = (bytes, of) => (of > 0 ? ((100 * bytes) / of).toFixed(1) + "%" : "");
const count = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : String(n));

const LABELS = {
  weights: "Weights", weight_overhead: "Weight overhead", activation: "Activation peak",
  non_torch: "Non-PyTorch", cuda_graphs: "CUDA graphs", kv_cache: "KV cache", overhead: "Overhead",
  reserve: "Reserve", free: "Free",
};
const term = (name, bytes, label) =>
  ({ term: name, bytes: Math.max(0, Math.round(Number(bytes) || 0)), label: label || LABELS[name] });

// One GPU's memory as the plan's memory model counts it: terms in drawing order, the GPU's capacity, and the
// budget the server may fill (the dashed line). vLLM: per_gpu with the CUDA-graph pool (inside the KV budget
// from vLLM 0.21, above it before); kaito: per_gpu; wizard and TGI: their own objects, summed over the GPUs.
function memoryModel(d) {
  const s = d.settings || {};
  if (d.tgi) {
    const g = d.tgi, n = g.num_shard || 1;
    return {
      method: "TGI estimation notebook" + (n > 1 ? ", its totals / " + n + " shards" : ""),
      terms: [term("weights", g.model_bytes / n), term("activation", (g.prefill_bytes + g.decode_bytes) / n,
        "Prefill + decode"), term("non_torch", g.cuda_overhead_bytes / n, "CUDA overhead"),
        term("kv_cache", g.kv_cache_bytes / n)],
      capacity: g.gpu_memory_bytes, budget: g.available_bytes / n,
      budgetLabel: "memory fraction " + g.cuda_memory_fraction + " x 0.95",
    };
  }
  if (d.wizard) {
    const w = d.wizard, n = w.tensor_parallel_size || 1;
    return {
      method: "vllm-wizard" + (n > 1 ? ", its totals / " + n + " GPUs" : ""),
      terms: [term("weights", w.weights_bytes / n), term("overhead", w.overhead_bytes / n),
        term("reserve", w.reserve_bytes / n), term("kv_cache", w.kv_cache_bytes / n)],
      capacity: w.gpu_memory_bytes, budget: w.allocatable_bytes / n,
      budgetLabel: "utilization " + s.gpu_memory_utilization,
    };
  }
  const g = d.per_gpu;
  if (d.vllm) {
    const v = d.vllm;
    const graphs = term("cuda_graphs", v.cudagraph_bytes);
    const kv = term("kv_cache", g.kv_cache_bytes, "KV cache (available)");
    return {
      method: "vLLM " + v.version + " memory profiling",
      terms: [term("weights", g.weights_bytes), term("activation", g.activation_bytes),
        term("non_torch", g.non_torch_bytes)].concat(v.cudagraph_in_kv_budget ? [graphs, kv] : [kv, graphs]),
      capacity: g.capacity_bytes, budget: g.budget_bytes,
      budgetLabel: "utilization " + s.gpu_memory_utilization,
    };
  }
  return {
    method: "KAITO sizing guide",
    terms: [term("weights", g.weights_bytes), term("weight_overhead", g.weight_overhead_bytes),
      term("activation", g.activation_bytes), term("non_torch", g.non_torch_bytes),
      term("kv_cache", g.kv_cache_bytes)],
    capacity: g.capacity_bytes, budget: g.budget_bytes,
    budgetLabel: "utilization " + s.gpu_memory_utilization,
  };
}
)JS";

// Drawing one plan: the verdict, the bar, the facts, the suggestions, the command.
constexpr std::string_view kRender = R"JS(
function memoryFigure(d) {
  const mm = memoryModel(d);
  const used = mm.terms.reduce((sum, t) => sum + t.bytes, 0);
  const terms = mm.terms.concat([term("free", Math.max(0, mm.capacity - used))]);
  const scale = Math.max(mm.capacity, used);
  const bar = el("div", {
    class: "bar", role: "img", "data-capacity-bytes": mm.capacity, "data-budget-bytes": Math.round(mm.budget),
    "aria-label": "Memory per GPU: " + terms.map((t) => t.label + " " + gib(t.bytes)).join(", ") +
      "; capacity " + gib(mm.capacity),
  });
  for (const t of terms) {
    if (t.bytes <= 0) continue;
    const seg = el("div", { class: "seg seg-" + t.term, "data-term": t.term, "data-bytes": t.bytes,
      title: t.label + ": " + gib(t.bytes) });
    seg.style.width = ((100 * t.bytes) / scale).toFixed(3) + "%";
    bar.append(seg);
  }
  if (mm.budget > 0 && scale > 0) {
    const line = el("div", { class: "util", "aria-hidden": "true" },
      el("span", {}, mm.budgetLabel + ": " + gib(mm.budget)));
    line.style.left = Math.min(100, (100 * mm.budget) / scale).toFixed(3) + "%";
    bar.append(line);
  }
  const rows = terms.map((t) => el("tr", {},
    el("th", { scope: "row" }, el("span", { class: "swatch sw-" + t.term, "aria-hidden": "true" }), t.label),
    el("td", { class: "num" }, gib(t.bytes)), el("td", { class: "num" }, share(t.bytes, mm.capacity))));
  rows.push(el("tr", {}, el("th", { scope: "row" }, "Budget (" + mm.budgetLabel + ")"),
    el("td", { class: "num" }, gib(mm.budget)), el("td", { class: "num" }, share(mm.budget, mm.capacity))));
  const over = used - mm.capacity;
  return {
    figure: el("figure", {},
      el("figcaption", {}, "Memory per GPU (" + mm.method + "), against the GPU's " + gib(mm.capacity) +
        "; the dashed line is the budget." + (over > 0 ? " The terms exceed the GPU by " + gib(over) + "." : "")),
      bar),
    table: el("div", { class: "scroll" }, el("table", {},
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Per GPU"), el("th", { scope: "col", class: "num" },
        "GiB"), el("th", { scope: "col", class: "num" }, "Share"))),
      el("tbody", {}, rows))),
  };
}

const VERDICTS = { fits: "Fits", does_not_fit: "Does not fit", uncertain: "Uncertain" };

function verdictBlock(d) {
  const p = d.plan, f = d.feasibility || {};
  const gpus = p.gpus + " x " + d.sku.gpu + (p.nodes > 1 ? " on " + p.nodes + " nodes" : "");
  const reasons = d.verdict === "uncertain" ? d.model.confidence.reasons : p.not_fit_reasons;
  return el("div", {},
    el("p", {}, el("span", { class: "verdict", "data-verdict": d.verdict }, VERDICTS[d.verdict] || d.verdict),
      el("span", { class: "summary" }, gpus + ", max-model-len " + count(p.max_model_len) +
        (f.oom_risk ? ", OOM risk " + f.oom_risk : ""))),
    reasons && reasons.length ? el("ul", { class: "reasons" }, reasons.map((r) => el("li", {}, r))) : null);
}

function facts(d) {
  const p = d.plan, f = d.feasibility || {}, v = d.vllm;
  const items = [
    ["GPUs", p.gpus + " x " + d.sku.gpu], ["Parallelism", "TP " + p.tensor_parallel_size + ", PP " +
      p.pipeline_parallel_size], ["Context", count(p.max_model_len) + " tokens"],
    ["Concurrency", count(f.concurrency) + " (at most " + count(f.max_concurrency_at_context) + ")"],
    ["Headroom per GPU", gib(f.headroom_bytes)],
  ];
  if (v) items.push(["KV cache", count(v.kv_cache_tokens) + " tokens"]);
  if (d.baseline) items.push(["KAITO guide", (d.baseline.fits ? "fits" : "does not fit") + " on " +
    d.baseline.gpus + " GPU(s)"]);
  return el("dl", { class: "facts" }, items.map(([k, val]) => el("div", {}, el("dt", {}, k), el("dd", {}, val))));
}

function suggestions(d) {
  if (!d.suggestions || !d.suggestions.length) return null;
  return [el("h3", {}, "Changes that would make it fit"), el("ol", { class: "suggestions" }, d.suggestions.map((s) =>
    el("li", {}, s.change + ": ", el("code", {}, s.flags), " (" + s.gpus + " GPU(s), context " + count(s.context) +
      ", headroom " + gib(s.headroom_bytes) + ")")))];
}

function copyButton(text, code, what) {
  const done = el("span", { class: "copied", role: "status" });
  const button = el("button", { type: "button", "aria-label": "Copy the " + what }, "Copy");
  button.addEventListener("click", async () => {
    let ok = false;
    try { await navigator.clipboard.writeText(text); ok = true; } catch (e) { ok = false; }
    if (!ok) {  // no clipboard API outside a secure context: select the line and try the older command
      const range = document.createRange();
      range.selectNodeContents(code);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    }
    done.textContent = ok ? "Copied." : "Selected: press Ctrl+C to copy.";
  });
  return [button, done];
}

function command(d) {
  const text = d.vllm_command || d.tgi_command;
  if (!text) return null;
  const what = d.vllm_command ? "vllm serve command" : "text-generation-launcher command";
  const code = el("code", { class: "cmd" }, text);
  return [el("h3", {}, "Command"), el("div", { class: "command" }, el("pre", {}, code), copyButton(text, code, what))];
}

function warnings(d) {
  const all = [...new Set([...(d.warnings || []), ...((d.feasibility || {}).warnings || [])])];
  if (!all.length) return null;
  return el("details", {}, el("summary", {}, "Warnings (" + all.length + ")"),
    el("ul", {}, all.map((w) => el("li", {}, w))));
}

function renderPlan(d) {
  const memory = memoryFigure(d);
  return el("article", { class: "plan", "data-sku": d.sku.name },
    el("h2", {}, d.model.id + " on " + d.sku.name), verdictBlock(d), memory.figure,
    el("div", { class: "cols" }, el("div", {}, memory.table), el("div", {}, facts(d), command(d))),
    suggestions(d), warnings(d));
}
)JS";

// The form: the SKU list, the address's query string, the request and its answer.
constexpr std::string_view kForm = R"JS(
function ensureOption(select, value) {
  if (![...select.options].some((o) => o.value === value)) select.append(el("option", { value: value }, value));
}

function syncEstimator() { estimatorSelect.disabled = engineSelect.value === "tgi"; }

function showExtras() {
  const keys = Object.keys(extras);
  extrasLine.hidden = keys.length === 0;
  if (!keys.length) return;
  const drop = el("button", { type: "button" }, "Drop them");
  drop.style.width = "auto";
  drop.addEventListener("click", () => { extras = {}; showExtras(); });
  extrasLine.replaceChildren("Also sent, from the address: " + keys.map((k) => k + "=" + extras[k]).join(", ") +
    " ", drop);
}

// Fills the form from ?model=...&sku=...; true when there is a model to plan.
function applyQuery() {
  const query = new URLSearchParams(window.location.search);
  extras = {};
  for (const [key, value] of query) {
    const field = form.elements.namedItem(key);
    if (field && field.name === key) {
      if (field.tagName === "SELECT") ensureOption(field, value);
      field.value = value;
    } else {
      extras[key] = value === "true" ? true : value === "false" ? false : value;
    }
  }
  syncEstimator();
  showExtras();
  return (query.get("model") || "") !== "";
}

function requestBody() {
  const body = {};
  for (const [key, value] of new FormData(form)) {
    const text = String(value).trim();
    if (text !== "") body[key] = text;
  }
  for (const [key, value] of Object.entries(extras)) if (!(key in body)) body[key] = value;
  return body;
}

function clearInvalid() {
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

function showError(message, field) {
  plansBox.replaceChildren(el("p", { class: "error", id: "error", role: "alert" }, "Error: " + message));
  statusLine.textContent = "No plan.";
  const input = field ? form.elements.namedItem(String(field).replace(/_/g, "-")) : null;
  if (input && input.setAttribute) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

async function plan() {
  const body = requestBody();
  if (inFlight) inFlight.abort();
  const controller = new AbortController();
  inFlight = controller;
  clearInvalid();
  result.setAttribute("aria-busy", "true");
  statusLine.textContent = "Planning...";
  window.history.replaceState(null, "", window.location.pathname + "?" +
    new URLSearchParams(Object.entries(body).map(([k, v]) => [k, String(v)])));
  let response, text;
  try {
    response = await fetch("plan", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body), signal: controller.signal });
    text = await response.text();
  } catch (e) {
    if (e.name !== "AbortError") showError("the server did not answer (" + e.message + ")");
    return;
  } finally {
    if (inFlight === controller) { inFlight = null; result.setAttribute("aria-busy", "false"); }
  }
  let data = null;
  try { data = JSON.parse(text); } catch (e) { data = null; }
  if (!response.ok || data === null || typeof data !== "object") {
    const message = data && data.error ? data.error : "HTTP " + response.status + ": " + text.slice(0, 300);
    showError(message, data && data.field);
    return;
  }
  const plans = Array.isArray(data) ? data : [data];
  plansBox.replaceChildren(...plans.map(renderPlan));
  const first = plans[0];
  statusLine.textContent = first ? (VERDICTS[first.verdict] || first.verdict) + ": " + first.model.id + " on " +
    first.plan.gpus + " x " + first.sku.gpu + ", max-model-len " + count(first.plan.max_model_len) +
    (plans.length > 1 ? " (first of " + plans.length + " plans, fitting ones first)" : "") + "." : "No plan.";
}

async function loadSkus() {
  const hint = byId("h-sku");
  try {
    const response = await fetch("skus");
    if (!response.ok) throw new Error("HTTP " + response.status);
    const skus = await response.json();
    const groups = new Map();
    for (const s of skus) {
      const key = s.cloud ? s.cloud + " instances" : "GPUs";
      if (!groups.has(key)) groups.set(key, el("optgroup", { label: key }));
      const memory = s.memory_reported_bytes ? gib(s.memory_reported_bytes) : s.memory_marketed_gb + " GB";
      groups.get(key).append(el("option", { value: s.name },
        s.name + (s.cloud ? " (" + s.gpus_per_node + " x " + s.gpu + ")" : " (" + memory + ")")));
    }
    skuSelect.append(...groups.values());
    hint.textContent = skus.length + " SKUs; or give the GPU memory.";
  } catch (e) {
    hint.textContent = "The SKU list did not load (" + e.message + "): give the GPU memory.";
  }
}

// Model ids for the datalist: any Hub-style id (owner/name) in GET /known-architectures, whatever its shape.
async function loadModels() {
  try {
    const response = await fetch("known-architectures");
    if (!response.ok) return;
    const ids = new Set();
    const walk = (node) => {
      if (typeof node === "string") { if (/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(node)) ids.add(node); }
      else if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === "object") Object.values(node).forEach(walk);
    };
    walk(await response.json());
    byId("models").replaceChildren(...[...ids].sort().slice(0, 2000).map((id) => el("option", { value: id })));
  } catch (e) { /* suggestions only */ }
}

engineSelect.addEventListener("change", syncEstimator);
form.addEventListener("submit", (event) => { event.preventDefault(); plan(); });
form.addEventListener("input", (event) => event.target.removeAttribute("aria-invalid"));
loadModels();
loadSkus().then(() => { if (applyQuery()) plan(); });
})();
)JS";

}  // namespace

std::string_view ui_script() {
  static const std::string script = std::string(kModel) + std::string(kRender) + std::string(kForm);
  return script;
}

}  // namespace vramcalc::serve
