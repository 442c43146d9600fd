// trm-edge web demo: the artifact's ONNX step graph in ONNX Runtime Web (WASM), driven by the same halting loop
// as trm_edge/runtime/loop.py (fixed / act / stable-K, batch 1), with the Sudoku codec and the rules check.
import * as ort from "./ort/ort.wasm.min.mjs";

const $ = (id) => document.getElementById(id);
const state = { meta: null, session: null, side: 0, init: null, samples: {} };

function setStatus(text, kind = "") {
  $("status").textContent = text;
  $("status").className = kind;
}

async function sha256(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function fetchChecked(name) {
  // Every file the model needs must match the SHA-256 its export recorded in metadata.json.
  const bytes = await (await fetch(name)).arrayBuffer();
  const want = state.meta.files[name];
  if (!want) throw new Error(`metadata.json records no hash for ${name}`);
  if ((await sha256(bytes)) !== want) throw new Error(`${name} does not match the SHA-256 recorded at export`);
  return bytes;
}

// ---- Sudoku codec and rules (trm_edge/data/sudoku.py) ----
const BOX = { 4: [2, 2], 6: [2, 3], 9: [3, 3] };

function parsePuzzle(text) {
  const cells = text.replace(/[\s|+\-]/g, "");
  const n = state.side;
  if (cells.length !== n * n) throw new Error(`a ${n}x${n} puzzle has ${n * n} cells; this one has ${cells.length}`);
  const bad = [...new Set(cells)].filter((c) => !(c === "." || c === "0" || (c >= "1" && c <= String(n))));
  if (bad.length) throw new Error(`characters ${bad.join("")} are not cells of a ${n}x${n} sudoku ('.' or 0 blank, 1-${n})`);
  const grid = Array.from(cells, (c) => (c === "." ? 0 : Number(c)));
  const clash = firstConflict(grid);
  if (clash) throw new Error(`contradictory givens: ${clash}`);
  return grid;
}

function units(n) {
  const [br, bc] = BOX[n];
  const out = [];
  for (let r = 0; r < n; r++) out.push({ name: `row ${r + 1}`, idx: Array.from({ length: n }, (_, c) => r * n + c) });
  for (let c = 0; c < n; c++) out.push({ name: `column ${c + 1}`, idx: Array.from({ length: n }, (_, r) => r * n + c) });
  for (let b = 0; b < n; b++) {
    const r0 = Math.floor(b / (n / bc)) * br, c0 = (b % (n / bc)) * bc, idx = [];
    for (let r = 0; r < br; r++) for (let c = 0; c < bc; c++) idx.push((r0 + r) * n + c0 + c);
    out.push({ name: `box ${b + 1}`, idx });
  }
  return out;
}

function firstConflict(grid) {
  for (const u of units(state.side)) {
    const seen = new Set();
    for (const i of u.idx) {
      if (grid[i] && seen.has(grid[i])) return `${u.name} has two ${grid[i]}s`;
      seen.add(grid[i]);
    }
  }
  return null;
}

function isValidSolution(puzzle, answer) {
  if (answer.some((d) => d < 1 || d > state.side)) return false;
  if (puzzle.some((d, i) => d && d !== answer[i])) return false;
  return units(state.side).every((u) => new Set(u.idx.map((i) => answer[i])).size === state.side);
}

const encode = (grid) => Int32Array.from(grid, (d) => d + 1);               // blank 1, digit d -> d + 1
const decode = (tokens) => Array.from(tokens, (t) => Math.max(0, t - 1));

// ---- The halting loop (trm_edge/runtime/loop.py, batch 1) ----
function argmax(logits, cells, vocab) {
  const out = new Int32Array(cells);
  for (let c = 0; c < cells; c++) {
    let best = 0;
    for (let v = 1; v < vocab; v++) if (logits[c * vocab + v] > logits[c * vocab + best]) best = v;
    out[c] = best;
  }
  return out;
}

function parseHalting(text) {
  if (text === "fixed" || text === "act") return { rule: text, patience: 0 };
  const m = /^stable-(\d+)$/.exec(text);
  if (m && Number(m[1]) >= 1) return { rule: "stable", patience: Number(m[1]) };
  throw new Error(`halting must be fixed, act or stable-K (got ${text})`);
}

async function solve(tokens, halting, maxSteps, onStep) {
  const meta = state.meta, shape = meta.state_shape;
  const names = meta.inputs.map((t) => t.name), outs = meta.outputs.map((t) => t.name);
  const size = shape.reduce((a, b) => a * b, 1), hidden = meta.hidden_size;
  let y = new Float32Array(size), z = new Float32Array(size);
  for (let i = 0; i < size; i++) { y[i] = state.init[i % hidden]; z[i] = state.init[hidden + (i % hidden)]; }
  const x = new ort.Tensor("int32", tokens, [1, tokens.length]), ids = new ort.Tensor("int32", Int32Array.of(0), [1]);
  let previous = null, unchanged = 0, answer = null, reason = "step limit", k = 0, seconds = 0;
  for (k = 1; k <= maxSteps; k++) {
    const t0 = performance.now();
    const r = await state.session.run({ [names[0]]: x, [names[1]]: ids, [names[2]]: new ort.Tensor("float32", y, shape),
                                        [names[3]]: new ort.Tensor("float32", z, shape) });
    seconds += (performance.now() - t0) / 1000;
    y = r[outs[0]].data; z = r[outs[1]].data;
    const q = r[outs[3]].data[0];
    answer = argmax(r[outs[2]].data, meta.seq_len, meta.vocab_size);
    onStep(k, answer, previous, q);
    if (halting.rule === "act" && q > 0) { reason = "q_halt"; break; }
    if (halting.rule === "stable") {
      unchanged = previous && answer.every((v, i) => v === previous[i]) ? unchanged + 1 : 0;
      if (unchanged >= halting.patience) { reason = "stable answer"; break; }
    }
    previous = answer;
  }
  return { answer, steps: Math.min(k, maxSteps), reason, seconds };
}

// ---- The page ----
function drawGrid(puzzle, answer, previous) {
  const n = state.side, [br, bc] = BOX[n];
  const table = $("grid");
  table.innerHTML = "";
  for (let r = 0; r < n; r++) {
    const tr = table.insertRow();
    for (let c = 0; c < n; c++) {
      const i = r * n + c, td = tr.insertCell();
      const digit = answer ? answer[i] : puzzle[i];
      td.textContent = digit ? String(digit) : "";
      td.className = [puzzle[i] ? "given" : "", previous && previous[i] !== digit ? "changed" : "",
                      (c + 1) % bc === 0 && c + 1 < n ? "right" : "", (r + 1) % br === 0 && r + 1 < n ? "bottom" : ""]
        .join(" ").trim();
    }
  }
}

async function onSolve() {
  document.body.dataset.state = "running";
  $("log").textContent = "";
  try {
    const puzzle = parsePuzzle($("puzzle").value);
    const halting = parseHalting($("halting").value);
    const maxSteps = Number($("max-steps").value);
    if (!Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > 1024) throw new Error("max steps must be 1 to 1024");
    drawGrid(puzzle, null, null);
    setStatus("solving ...");
    const result = await solve(encode(puzzle), halting, maxSteps, (k, tokens, previous, q) => {
      drawGrid(puzzle, decode(tokens), previous ? decode(previous) : null);
      $("log").textContent += `step ${k}: q_halt ${q.toFixed(2)}\n`;
    });
    const answer = decode(result.answer);
    const ok = isValidSolution(puzzle, answer);
    $("answer").textContent = answer.join("");
    $("steps").textContent = String(result.steps);
    $("reason").textContent = result.reason;
    $("ms").textContent = (1000 * result.seconds / result.steps).toFixed(1);
    $("verdict").textContent = ok ? "a valid solution that keeps every given" : "NOT a valid solution";
    setStatus(`${result.steps} step${result.steps === 1 ? "" : "s"}, stopped by ${result.reason}`, ok ? "good" : "bad");
  } catch (err) {
    setStatus(err.message, "bad");
  }
  document.body.dataset.state = "done";
}

function showSamples() {
  const box = $("samples");
  for (const [band, puzzles] of Object.entries(state.samples)) {
    const button = document.createElement("button");
    button.textContent = band;
    button.onclick = () => { $("puzzle").value = puzzles[Math.floor(Math.random() * puzzles.length)]; onInput(); };
    box.appendChild(button);
  }
}

function onInput() {
  try { drawGrid(parsePuzzle($("puzzle").value), null, null); setStatus(""); }
  catch (err) { setStatus(err.message, "bad"); }
}

async function webgpu() {
  // An API without an adapter (headless, no GPU driver) cannot run anything: say which of the two it is.
  if (!("gpu" in navigator)) return "not in this browser";
  try { return (await navigator.gpu.requestAdapter()) ? "an adapter is available" : "no adapter (no usable GPU)"; }
  catch { return "no adapter (no usable GPU)"; }
}

async function main() {
  try {
    state.meta = await (await fetch("metadata.json")).json();
    const site = await (await fetch("site.json")).json();
    state.samples = site.samples || {};
    state.side = state.meta.grid_shape[0];
    $("title").textContent = `TRM ${state.side}x${state.side} Sudoku`;
    $("max-steps").value = state.meta.halt_max_steps;
    const threads = Number(new URLSearchParams(location.search).get("threads") || 1);
    ort.env.wasm.numThreads = self.crossOriginIsolated ? threads : 1;   // threads need COOP/COEP headers
    ort.env.wasm.wasmPaths = new URL("./ort/", import.meta.url).href;
    const model = await fetchChecked(state.meta.model_file);
    state.init = new Float32Array(await fetchChecked(state.meta.init_state.file));
    state.session = await ort.InferenceSession.create(new Uint8Array(model), { executionProviders: ["wasm"] });
    $("env").textContent = `ONNX Runtime Web ${ort.env.versions.web}, WASM, ${ort.env.wasm.numThreads} thread(s); ` +
      `WebGPU: ${await webgpu()}`;
    document.body.dataset.threads = String(ort.env.wasm.numThreads);
    showSamples();
    $("puzzle").addEventListener("input", onInput);
    $("solve").addEventListener("click", onSolve);
    setStatus("model verified and loaded");
    document.body.dataset.state = "ready";
  } catch (err) {
    setStatus(`could not load the model: ${err.message}`, "bad");
    document.body.dataset.state = "error";
  }
}

main();
