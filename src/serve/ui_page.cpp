// GET /ui (serve/ui.hpp): the page's HTML and CSS; its script is ui_script.cpp. Nothing is loaded from elsewhere
// (no CDN, no web fonts): the page works where the server has no way out, and the only requests it makes are to
// this server (GET skus, GET known-architectures, POST plan, relative to the page so a path prefix at an ingress
// keeps working).
#include <string>

#include "serve/ui.hpp"

namespace vramcalc::serve {

namespace {

constexpr std::string_view kHead = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vram-calc: GPU memory for serving an LLM</title>
<style>
:root {
  color-scheme: light dark;
  --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --line: #c5ccd3; --panel: #f6f8fa; --accent: #0b5cad;
  --focus: #0969da; --ok-bg: #dafbe1; --ok-fg: #116329; --bad-bg: #ffebe9; --bad-fg: #a40e26;
  --warn-bg: #fff8c5; --warn-fg: #7d4e00;
  --c-weights: #4e79a7; --c-weight_overhead: #76b7b2; --c-activation: #f28e2b; --c-non_torch: #b07aa1;
  --c-cuda_graphs: #e15759; --c-kv_cache: #59a14f; --c-overhead: #9c755f; --c-reserve: #bab0ac;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e6edf3; --bg: #0d1117; --muted: #9da7b3; --line: #3d444d; --panel: #161b22; --accent: #58a6ff;
    --focus: #58a6ff; --ok-bg: #12361f; --ok-fg: #7ee2a0; --bad-bg: #42151b; --bad-fg: #ffa198;
    --warn-bg: #3b2e05; --warn-fg: #f2cc60;
  }
}
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg);
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
main { max-width: 72rem; margin: 0 auto; padding: .75rem 1rem 2rem; }
h1 { font-size: 1.35rem; margin: .25rem 0; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }
h3 { font-size: 1rem; margin: 1rem 0 .35rem; }
p { margin: .35rem 0; }
.intro, .hint, .note { color: var(--muted); font-size: .9rem; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
form { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .6rem 1rem;
  align-items: start; margin: .75rem 0; padding: .75rem; background: var(--panel); border: 1px solid var(--line);
  border-radius: 8px; }
@media (min-width: 40rem) { .wide { grid-column: span 2; } }
label { display: block; font-weight: 600; font-size: .9rem; margin-bottom: .2rem; }
input, select, button { font: inherit; width: 100%; min-height: 2.5rem; padding: .4rem .55rem; color: var(--fg);
  background: var(--bg); border: 1px solid var(--line); border-radius: 6px; }
input[aria-invalid="true"] , select[aria-invalid="true"] { border: 2px solid var(--bad-fg); }
button { cursor: pointer; font-weight: 600; }
.submit { align-self: end; }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
@media (prefers-color-scheme: dark) { .submit { align-self: end; }
button.primary { color: #0d1117; } }
button:disabled, select:disabled { opacity: .6; cursor: default; }
.field .hint { margin: .15rem 0 0; font-size: .8rem; }
#status { min-height: 1.5rem; }
.error { padding: .6rem .75rem; border-radius: 6px; background: var(--bad-bg); color: var(--bad-fg); }
.plan { border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; margin: .75rem 0; }
.verdict { display: inline-block; font-weight: 700; font-size: 1.15rem; padding: .2rem .7rem; border-radius: 999px; }
.verdict[data-verdict="fits"] { background: var(--ok-bg); color: var(--ok-fg); }
.verdict[data-verdict="does_not_fit"] { background: var(--bad-bg); color: var(--bad-fg); }
.verdict[data-verdict="uncertain"] { background: var(--warn-bg); color: var(--warn-fg); }
.summary { margin-left: .5rem; }
ul.reasons { margin: .35rem 0; padding-left: 1.25rem; }
figure { margin: .75rem 0 0; }
.cols { display: grid; gap: .75rem 1.5rem; }
@media (min-width: 56rem) { .cols { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); } }
.cols h3:first-child { margin-top: 0; }
figcaption { font-size: .9rem; color: var(--muted); margin-bottom: .35rem; }
.bar { position: relative; display: flex; height: 2.75rem; border: 1px solid var(--line); border-radius: 6px;
  margin-bottom: 1.6rem; }
.seg { height: 100%; min-width: 2px; }
.seg:first-child { border-radius: 5px 0 0 5px; }
.seg:last-child { border-radius: 0 5px 5px 0; }
.seg-weights, .sw-weights { background: var(--c-weights); }
.seg-weight_overhead, .sw-weight_overhead { background: var(--c-weight_overhead); }
.seg-activation, .sw-activation { background: var(--c-activation); }
.seg-non_torch, .sw-non_torch { background: var(--c-non_torch); }
.seg-cuda_graphs, .sw-cuda_graphs { background: var(--c-cuda_graphs); }
.seg-kv_cache, .sw-kv_cache { background: var(--c-kv_cache); }
.seg-overhead, .sw-overhead { background: var(--c-overhead); }
.seg-reserve, .sw-reserve { background: var(--c-reserve); }
.seg-free, .sw-free { background: repeating-linear-gradient(135deg, transparent 0 6px, var(--line) 6px 8px); }
.util { position: absolute; top: -.35rem; bottom: -.35rem; width: 0; border-left: 2px dashed var(--fg); }
.util span { position: absolute; top: 100%; right: .3rem; white-space: nowrap; font-size: .8rem; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
.scroll { overflow-x: auto; }
th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.swatch { display: inline-block; width: .9rem; height: .9rem; border-radius: 3px; margin-right: .4rem;
  vertical-align: -.1rem; border: 1px solid var(--line); }
dl.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: .4rem .6rem;
  margin: 0; }
dl.facts div { padding: .3rem .5rem; background: var(--panel); border-radius: 6px; }
dt { font-size: .8rem; color: var(--muted); }
dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.command { display: flex; gap: .5rem; align-items: stretch; flex-wrap: wrap; }
.command pre { flex: 1 1 20rem; margin: 0; padding: .55rem .7rem; background: var(--panel); border: 1px solid var(--line);
  border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
.command button { width: auto; flex: 0 0 auto; }
.copied { font-size: .85rem; color: var(--muted); align-self: center; }
ol.suggestions { padding-left: 1.4rem; margin: .3rem 0; }
ol.suggestions li { margin: .2rem 0; }
details { margin-top: .6rem; }
details ul { padding-left: 1.25rem; margin: .3rem 0; font-size: .9rem; }
summary { cursor: pointer; }
footer { margin-top: 1.5rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
</style>
</head>
<body>
<main>
<header>
<h1>vram-calc: GPU memory for serving an LLM</h1>
<p class="intro">Plans come from <code>POST /plan</code>: the same engine and JSON as
<code>vram-calc --format json</code>. Sizes are in GiB (2<sup>30</sup> bytes).</p>
</header>
<form id="plan-form" action="" method="get">
  <div class="field wide">
    <label for="f-model">Model</label>
    <input id="f-model" name="model" list="models" required autocomplete="off" spellcheck="false"
      placeholder="meta-llama/Llama-3.1-8B" aria-describedby="h-model">
    <datalist id="models"></datalist>
    <p class="hint" id="h-model">A catalog or Hugging Face Hub id.</p>
  </div>
  <div class="field">
    <label for="f-sku">GPU or instance (SKU)</label>
    <select id="f-sku" name="sku" aria-describedby="h-sku"><option value="">(by GPU memory)</option></select>
    <p class="hint" id="h-sku">Loading the SKU list&#8230;</p>
  </div>
  <div class="field">
    <label for="f-gpu-memory">GPU memory</label>
    <input id="f-gpu-memory" name="gpu-memory" autocomplete="off" spellcheck="false" placeholder="24GiB"
      aria-describedby="h-gpu-memory">
    <p class="hint" id="h-gpu-memory">Per GPU; replaces the SKU's.</p>
  </div>
  <div class="field">
    <label for="f-max-model-len">Context (tokens)</label>
    <input id="f-max-model-len" name="max-model-len" inputmode="numeric" autocomplete="off" placeholder="auto"
      aria-describedby="h-max-model-len">
    <p class="hint" id="h-max-model-len">max-model-len: 32768, 32k, auto.</p>
  </div>
  <div class="field">
    <label for="f-concurrency">Concurrency</label>
    <input id="f-concurrency" name="concurrency" type="number" min="1" step="1" inputmode="numeric" placeholder="1"
      aria-describedby="h-concurrency">
    <p class="hint" id="h-concurrency">Sequences of that length at once.</p>
  </div>
  <div class="field">
    <label for="f-engine">Engine</label>
    <select id="f-engine" name="engine"><option value="vllm">vLLM</option><option value="tgi">TGI</option></select>
  </div>
  <div class="field">
    <label for="f-estimator">Estimator (vLLM)</label>
    <select id="f-estimator" name="estimator">
      <option value="vllm">vLLM's own profiling</option><option value="kaito">KAITO sizing guide</option>
      <option value="wizard">vllm-wizard</option>
    </select>
  </div>
  <div class="field submit">
    <button id="f-submit" class="primary" type="submit">Plan</button>
  </div>
</form>
<p id="extras" class="note" hidden></p>
<section id="result" aria-busy="false" aria-label="Plan">
  <p id="status" class="note" role="status">Enter a model and a GPU, then press Enter or Plan.</p>
  <div id="plans"></div>
</section>
<footer class="note">GiB = 2<sup>30</sup> bytes. The API: <a href="./">GET /</a> describes every endpoint.</footer>
</main>
)HTML";

constexpr std::string_view kTail = "</body>\n</html>\n";

}  // namespace

std::string_view ui_page() {
  // Built once, on the first request (a function-local static: thread-safe).
  static const std::string page =
      std::string(kHead) + "<script>\n" + std::string(ui_script()) + "</script>\n" + std::string(kTail);
  return page;
}

}  // namespace vramcalc::serve
