// The playground's only channel to the server: TF Serving's REST API (metadata, :predict), plus the optional
// /playground/models.json list that zoo serve adds. Requests are cancellable (AbortController) and timed.
"use strict";
const Api = {
  controller: null,
  timings: {},
  async json(url, options) {
    const response = await fetch(url, options);
    const text = await response.text();
    let body;
    try { body = JSON.parse(text); } catch (e) { body = { error: text }; }
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${body.error || text}`);
    return body;
  },
  async models() {
    try { return (await Api.json("/playground/models.json")).models; } catch (e) { return null; }
  },
  async metadata(name) {
    const body = await Api.json(`/v1/models/${encodeURIComponent(name)}/metadata`);
    return body.metadata.signature_def.signature_def;
  },
  curl(name, body) {
    const url = `${location.origin}/v1/models/${name}:predict`;
    return `curl -d '${JSON.stringify(body).replace(/'/g, "'\\''")}' ${url}`;
  },
  // One :predict; shows the request, a progress indicator and the server's error as it is.
  async predict(name, body, view) {
    if (Api.controller) Api.controller.abort();
    const controller = Api.controller = new AbortController();
    document.getElementById("request").textContent = Api.curl(name, body);
    document.getElementById("error").hidden = true;
    document.getElementById("progress").hidden = false;
    const start = performance.now();
    try {
      const out = await Api.json(`/v1/models/${encodeURIComponent(name)}:predict`, {
        method: "POST", body: JSON.stringify(body), signal: controller.signal,
        headers: { "Content-Type": "application/json" } });
      if (view && !(view in Api.timings)) Api.timings[view] = performance.now() - start;
      return out.outputs;
    } catch (e) {
      Api.showError(e.name === "AbortError" ? "request cancelled" : e.message);
      throw e;
    } finally {
      if (Api.controller === controller) { Api.controller = null; document.getElementById("progress").hidden = true; }
    }
  },
  showError(message) {
    const box = document.getElementById("error");
    box.textContent = message;
    box.hidden = false;
  },
};
document.getElementById("cancel").onclick = () => Api.controller && Api.controller.abort();
document.getElementById("copy").onclick = () => navigator.clipboard && navigator.clipboard.writeText(
  document.getElementById("request").textContent).catch(() => {});
