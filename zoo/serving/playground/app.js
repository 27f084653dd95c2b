// The playground page: picks a model (from /playground/models.json, the URL, or a typed name), reads its
// metadata, and shows the view its signatures call for with the card's measured metrics.
"use strict";
let cards = {};
async function show(name) {
  const box = document.getElementById("view"), metrics = document.getElementById("metrics");
  box.replaceChildren();
  metrics.replaceChildren();
  document.getElementById("error").hidden = true;
  history.replaceState(null, "", `/models/${encodeURIComponent(name)}`);
  let sigs;
  try { sigs = await Api.metadata(name); } catch (e) { Api.showError(e.message); return; }
  const kind = viewKind(Object.keys(sigs));
  document.getElementById("kind").textContent = kind ? `${kind} view` : "no view for these signatures";
  document.body.dataset.kind = kind || "";
  const card = cards[name];
  Object.entries((card && card.metrics) || {}).filter(([, v]) => typeof v === "number")
    .forEach(([k, v]) => metrics.append(el("span", { text: `${k}: ${Number.isInteger(v) ? v : v.toFixed(3)}` })));
  if (!card) metrics.textContent = "no model card (metrics need zoo serve's /playground/models.json)";
  if (kind) Views[kind](name, sigs, box);
  document.body.dataset.ready = name;
}
async function main() {
  const select = document.getElementById("model"), typed = document.getElementById("model-name");
  const fromUrl = decodeURIComponent((location.pathname.match(/^\/models\/([^/]+)/) || [])[1] || "");
  const models = await Api.models();
  if (models) {
    models.forEach((m) => { cards[m.name] = m.card; select.append(el("option", { value: m.name, text: m.name })); });
    select.onchange = () => show(select.value);
    if (fromUrl) select.value = fromUrl;
    if (models.length) show(fromUrl || select.value);
  } else {  // stock TF Serving has no model list: type a name
    select.hidden = true;
    typed.hidden = false;
    typed.value = fromUrl;
    typed.onchange = () => show(typed.value);
    if (fromUrl) show(fromUrl);
  }
}
main();
