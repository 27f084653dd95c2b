// One view per kind of model, each built from the model's signatures: a form, a :predict call, the rendered result.
"use strict";
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => (k === "text" ? (node.textContent = v) : node.setAttribute(k, v)));
  children.forEach((c) => node.append(c));
  return node;
}
function field(label, id, value, type) {
  const input = el(type === "area" ? "textarea" : "input", { id, rows: 3 });
  if (type !== "area") input.type = type || "number";
  if (type === "number" || !type) input.step = "any";
  input.value = value;
  return el("label", {}, label + " ", input);
}
const val = (id) => document.getElementById(id).value;
const num = (id) => Number(document.getElementById(id).value);
function button(label, id, action) {
  const b = el("button", { id, text: label });
  b.onclick = () => action().catch((e) => { if (!(e instanceof Error && e.message)) console.warn(e); });
  return b;
}
function drawDigits(target, rows, scale) {
  target.replaceChildren();
  rows.forEach((pixels) => {
    const canvas = el("canvas", { width: 28, height: 28, class: "digit" });
    canvas.style.width = canvas.style.height = `${28 * (scale || 3)}px`;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = 255 - Math.round(255 * Number(pixels[i]));
      image.data.set([v, v, v, 255], 4 * i);
    }
    ctx.putImageData(image, 0, 0);
    target.append(canvas);
  });
}
const text = (s) => String(s);

const Views = {
  generator(name, sigs, box) {
    const decoders = ["generate_greedy", "generate", "generate_beam"].filter((s) => s in sigs);
    const decoder = el("select", { id: "decoder" });
    decoders.forEach((s) => decoder.append(el("option", { value: s, text: s.replace("generate_", "").replace(/^generate$/, "sampling") })));
    const out = el("div", { class: "out", id: "result" });
    const scores = el("div", { class: "out", id: "scores" });
    box.append(el("fieldset", {}, field("prompt", "prompt", name.includes("char") ? "ROMEO:" : "the company said", "text"),
      el("label", {}, "decoder ", decoder), field("max tokens", "max_tokens", 40), field("temperature", "temperature", 0.8),
      field("top-k", "top_k", 0), field("top-p", "top_p", 0.95), field("seed", "seed", 7),
      field("length penalty", "length_penalty", 0.6), button("generate", "run", async () => {
        const sig = decoder.value;
        const inputs = { prompt: [val("prompt")], max_tokens: num("max_tokens") };
        if (sig === "generate") Object.assign(inputs, { temperature: num("temperature"), top_k: num("top_k"), top_p: num("top_p"), seed: num("seed") });
        if (sig === "generate_beam") inputs.length_penalty = num("length_penalty");
        const o = await Api.predict(name, { signature_name: sig, inputs }, "generator");
        const sep = name.includes("char") ? "" : " ";
        out.replaceChildren(el("b", { text: inputs.prompt[0] + sep }), o.text[0],
          `\n\nlog p = ${o.log_prob[0].toFixed(3)} nats (${o.lengths[0]} tokens generated)`);
      })), out);
    if ("score" in sigs) {
      box.append(el("fieldset", {}, field("text to score", "score_text",
        name.includes("char") ? "ROMEO: what light through yonder window breaks" : "the market closed higher today", "area"),
        button("score", "run_score", async () => {
          const t = val("score_text");
          const o = await Api.predict(name, { signature_name: "score", inputs: { text: [t] } }, "score");
          const n = o.lengths[0], lp = o.log_probs[0].slice(0, n);
          const pieces = t.length === n ? t.split("") : t.trim().split(/\s+/).concat(["</s>", "</s>"]).slice(0, n);
          scores.replaceChildren(el("div", { text: `total log p = ${o.total[0].toFixed(2)} nats over ${n} tokens` }));
          lp.forEach((v, i) => {
            const s = el("span", { class: "tok", title: `${(-v).toFixed(2)} nats`, text: pieces[i] + (pieces.length < t.length ? " " : "") });
            s.style.background = `rgba(220,40,40,${Math.min(1, -v / 8).toFixed(2)})`;
            scores.append(s);
          });
        })), scores);
    }
  },
  viterbi(name, sigs, box) {
    const out = el("div", { class: "out", id: "result" });
    box.append(el("fieldset", {}, field("context token ids (comma separated)", "context", "1, 1", "text"),
      button("decode (Viterbi)", "run", async () => {
        const context = val("context").split(",").map(Number);
        const o = await Api.predict(name, { signature_name: "viterbi", inputs: { context } }, "viterbi");
        out.textContent = `${o.text}\n\nlog p = ${Number(o.log_prob).toFixed(3)} nats`;
      })), out);
  },
  image(name, sigs, box) {
    const grid = el("div", { id: "result" }), recon = el("div", { id: "recon" }), strip = el("div", { id: "strip" });
    const sampleInputs = Object.keys(sigs.sample.inputs);
    box.append(el("fieldset", {}, el("b", { text: "prior samples " }), field("count", "count", 16), field("seed", "seed", 7),
      sampleInputs.includes("steps") ? field("Gibbs steps", "steps", 200) : "",
      button("sample", "run", async () => {
        const inputs = { num_samples: num("count"), seed: num("seed") };
        if (sampleInputs.includes("steps")) inputs.steps = num("steps");
        const o = await Api.predict(name, { signature_name: "sample", inputs }, "image");
        drawDigits(grid, o.probs);
      })), grid);
    fetch("/playground/digits.json").then((r) => r.json()).then(({ digits }) => {
      const x = digits.map((d) => d.split("").map(Number));
      const originals = el("div", { id: "originals" });
      drawDigits(originals, x, 2);
      box.append(el("fieldset", {}, el("b", { text: "test digits " }), originals));
      if ("reconstruct" in sigs) {
        box.append(el("fieldset", {}, button("reconstruct", "run_recon", async () => {
          const o = await Api.predict(name, { signature_name: "reconstruct", inputs: { x } }, "reconstruct");
          drawDigits(recon, o, 2);
        }), recon));
      } else box.append(el("p", { text: "no reconstruct signature: reconstructions are not available for this model" }));
      if ("encode" in sigs && "decode" in sigs) {
        box.append(el("fieldset", {}, field("from digit", "first", 0), field("to digit", "second", 1), field("steps", "isteps", 8),
          button("interpolate", "run_interp", async () => {
            const e = await Api.predict(name, { signature_name: "encode", inputs: { x: [x[num("first")], x[num("second")]] } });
            const [a, b] = e.loc, n = num("isteps");
            const z = Array.from({ length: n }, (_, i) => a.map((v, j) => v + (b[j] - v) * i / Math.max(1, n - 1)));
            const d = await Api.predict(name, { signature_name: "decode", inputs: { z } }, "interpolate");
            drawDigits(strip, d.probs);
          }), strip));
      }
    }).catch((e) => Api.showError(`could not read the test digits: ${e.message}`));
  },
  sentence(name, sigs, box) {
    const out = el("div", { class: "out", id: "result" });
    box.append(el("fieldset", {}, field("first sentence", "first", "the company said it expects to report a loss", "text"),
      field("second sentence", "second", "the market is closed today", "text"), field("steps", "steps", 5),
      button("homotopy", "run", async () => {
        const o = await Api.predict(name, { signature_name: "interpolate",
          inputs: { first: val("first"), second: val("second"), steps: num("steps") } }, "sentence");
        out.textContent = o.text.map((t, i) => `${i}. ${t}`).join("\n");
      })), out);
  },
  document(name, sigs, box) {
    const table = el("table", { id: "topics" }), out = el("div", { class: "out", id: "result" });
    let topicWords = [];
    box.append(el("fieldset", {}, field("words per topic", "k", 8), button("topic table", "run", async () => {
      const o = await Api.predict(name, { signature_name: "topics", inputs: { k: num("k") } }, "document");
      topicWords = o.words;
      table.replaceChildren(...o.words.map((w, i) => el("tr", {}, el("th", { text: i }), el("td", { text: w.join(" ") }))));
    })), el("div", { class: "scroll" }, table));
    box.append(el("fieldset", {}, field("text", "doc", "the space shuttle launch was delayed by nasa engineers", "area"),
      button("perplexity and nearest topics", "run_doc", async () => {
        const t = await Api.predict(name, { signature_name: "text", inputs: { text: [val("doc")] } });
        const inputs = { counts: t.counts };
        const scoreInputs = Object.keys(sigs.score.inputs);
        if (scoreInputs.includes("num_samples")) inputs.num_samples = 20;
        if (scoreInputs.includes("seed")) inputs.seed = 1;
        const s = await Api.predict(name, { signature_name: "score", inputs }, "perplexity");
        const keys = Object.keys(t).sort((a, b) => (a === "logits") - (b === "logits"));  // probs before logits
        const key = keys.find((k) => k !== "counts" && Array.isArray(t[k]) && Array.isArray(t[k][0]) && t[k][0].length === topicWords.length)
          || keys.find((k) => k !== "counts" && Array.isArray(t[k]) && Array.isArray(t[k][0]));
        const weights = key ? t[key][0] : [];
        const top = weights.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, 3);
        out.textContent = `perplexity ${Number(s.perplexity[0]).toFixed(1)} over ${s.length[0]} words\n` +
          `nearest topics (by ${key}):\n` + top.map(([v, i]) => `  ${i} (${v.toFixed(3)}): ${(topicWords[i] || []).join(" ")}`).join("\n");
      })), out);
  },
  memory(name, sigs, box) {
    const out = el("div", { class: "out", id: "result" }), table = el("table", { id: "attention" });
    box.append(el("fieldset", {}, field("story (one sentence a line)", "story", "Mary moved to the bathroom.\nJohn went to the hallway.\nMary travelled to the office.", "area"),
      field("question", "question", "Where is Mary?", "text"), button("answer", "run", async () => {
        const story = val("story").split("\n").filter((s) => s.trim());
        const o = await Api.predict(name, { signature_name: "answer", inputs: { story, question: val("question") } }, "memory");
        out.textContent = `answer: ${o.answer} (p = ${Number(o.probability).toFixed(3)}, unknown words: ${o.unknown_words})`;
        table.replaceChildren();
        if (o.attention) {
          table.append(el("tr", {}, el("th", { text: "hop" }), ...story.map((s) => el("th", { text: s }))));
          o.attention.forEach((row, h) => {
            const tr = el("tr", { class: "hop" }, el("th", { text: h + 1 }));
            row.forEach((a) => { const td = el("td", { text: a.toFixed(3) }); td.style.background = `rgba(40,90,220,${a.toFixed(2)})`; tr.append(td); });
            table.append(tr);
          });
        } else table.append(el("tr", {}, el("td", { text: "this model exports no attention" })));
      })), out, table);
  },
  skipgram(name, sigs, box) {
    const table = el("table", { id: "result" });
    box.append(el("fieldset", {}, field("word", "word", "market", "text"), field("k", "k", 10),
      button("nearest neighbours", "run", async () => {
        const o = await Api.predict(name, { signature_name: "neighbours", inputs: { words: [val("word")], k: num("k") } }, "skipgram");
        table.replaceChildren(el("tr", {}, el("th", { text: o.known[0] ? "neighbour" : "unknown word" }), el("th", { text: "cosine" })),
          ...o.words[0].map((w, i) => el("tr", {}, el("td", { text: w }), el("td", { text: o.cosine[0][i].toFixed(3) }))));
      })), table);
  },
};

// The view for a set of signature names (never the model's name).
function viewKind(names) {
  const has = (s) => names.includes(s);
  if (has("answer")) return "memory";
  if (has("neighbours")) return "skipgram";
  if (has("interpolate") && has("sample") && has("decode")) return "sentence";
  if (has("topics")) return "document";
  if (has("generate") || has("generate_greedy") || has("generate_beam")) return "generator";
  if (has("viterbi")) return "viterbi";
  if (has("sample") && (has("reconstruct") || has("free_energy") || has("decode"))) return "image";
  return null;
}
