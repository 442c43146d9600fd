// trm-edge web demo: the artifact's ONNX step graph in ONNX Runtime Web (WASM), driven by the same halting loop
// as trm_edge/host_loop.py (fixed / act / stable-K / valid[-K], batch 1) and the same tries as
// trm_edge/runtime/tries.py (copy by copy, answers mapped back and accepted only by the rules). What a puzzle is
// (its text, tokens, rules check, views and drawing) comes from the artifact task's module in tasks/.
// It runs on WebGPU where the browser gives an adapter and on WASM otherwise (?ep=webgpu|wasm forces one), and
// a service worker (sw.js) keeps every file on the device after the first visit.
let ort = null;   // the ONNX Runtime Web build the chosen backend needs (loaded in main)

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const state = { meta: null, session: null, side: 0, init: null, samples: {}, task: null, backend: null, trace: null };

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

// ---- The halting loop (trm_edge/host_loop.py, batch 1) ----
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
  if (text === "fixed" || text === "act" || text === "valid") return { rule: text, patience: 0 };
  const m = /^(stable|valid)-(\d+)$/.exec(text);
  if (m && Number(m[2]) >= 1) return { rule: m[1], patience: Number(m[2]) };
  throw new Error(`halting must be fixed, act, stable-K, valid or valid-K (got ${text})`);
}

// `accepts(answer tokens)`: the rules check 'valid' halting stops on.
async function solve(tokens, halting, maxSteps, onStep, accepts) {
  const meta = state.meta, shape = meta.state_shape;
  const names = meta.inputs.map((t) => t.name), outs = meta.outputs.map((t) => t.name);
  const size = shape.reduce((a, b) => a * b, 1), hidden = meta.hidden_size;
  let y = new Float32Array(size), z = new Float32Array(size);
  for (let i = 0; i < size; i++) { y[i] = state.init[i % hidden]; z[i] = state.init[hidden + (i % hidden)]; }
  const x = new ort.Tensor("int32", tokens, [1, tokens.length]), ids = new ort.Tensor("int32", Int32Array.of(0), [1]);
  let previous = null, unchanged = 0, answer = null, reason = "step limit", k = 0, seconds = 0, last = 0;
  for (k = 1; k <= maxSteps; k++) {
    const t0 = performance.now();
    const r = await state.session.run({ [names[0]]: x, [names[1]]: ids, [names[2]]: new ort.Tensor("float32", y, shape),
                                        [names[3]]: new ort.Tensor("float32", z, shape) });
    seconds += (performance.now() - t0) / 1000;
    y = r[outs[0]].data; z = r[outs[1]].data;
    const q = r[outs[3]].data[0];
    answer = argmax(r[outs[2]].data, meta.seq_len, meta.vocab_size);
    if (state.trace) state.trace.push(Array.from(r[outs[2]].data));   // ?trace=1: every step's logits, for tests
    onStep(k, answer, previous, q);
    last = q;
    if (halting.rule === "act" && q > 0) { reason = "q_halt"; break; }
    if (halting.rule === "valid" && accepts(answer)) { reason = "valid answer"; break; }
    if (halting.patience) {
      unchanged = previous && answer.every((v, i) => v === previous[i]) ? unchanged + 1 : 0;
      if (unchanged >= halting.patience) { reason = "stable answer"; break; }
    }
    previous = answer;
  }
  return { answer, steps: Math.min(k, maxSteps), reason, seconds, q: last };
}

// ---- Tries (trm_edge/runtime/tries.py): copy by copy until the rules accept an answer mapped back ----
async function solveWithTries(puzzle, halting, maxSteps, tries) {
  const { encode, decode, check, view } = state.task, n = state.side, candidates = [];
  for (let copy = 0; copy < tries; copy++) {
    const v = view(n, copy), seen = v.apply(puzzle);
    const accepts = (tokens) => check(seen, decode(tokens), n);
    const r = await solve(encode(seen), halting, maxSteps, (k, tokens, previous, q) => {
      drawGrid(puzzle, v.undo(decode(tokens)), previous ? v.undo(decode(previous)) : null);
      $("log").textContent += `${tries > 1 ? `copy ${copy} ` : ""}step ${k}: q_halt ${q.toFixed(2)}\n`;
    }, accepts);
    const answer = v.undo(decode(r.answer));
    candidates.push({ ...r, answer, copy, verified: check(puzzle, answer, n) });
    if (candidates.at(-1).verified) break;
  }
  const last = candidates.at(-1);
  const chosen = last.verified ? last : vote(candidates);
  return { ...chosen, steps: candidates.reduce((a, c) => a + c.steps, 0),
           seconds: candidates.reduce((a, c) => a + c.seconds, 0), copies: candidates.length };
}

function vote(candidates) {
  // The most frequent answer; among equally frequent ones, the copy the halting head was surest of.
  const key = (c) => c.answer.join(","), counts = new Map();
  for (const c of candidates) counts.set(key(c), (counts.get(key(c)) || 0) + 1);
  return candidates.reduce((best, c) => {
    const a = [counts.get(key(c)), c.q, -c.copy], b = [counts.get(key(best)), best.q, -best.copy];
    return a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2]))) ? c : best;
  });
}

// ---- The page ----
const drawGrid = (puzzle, answer, previous) => state.task.draw($("grid"), puzzle, answer, previous, state.side);
const parsePuzzle = (text) => state.task.parse(text, state.side);

async function onSolve() {
  document.body.dataset.state = "running";
  clearResult();
  if (state.trace) state.trace.length = 0;
  try {
    const puzzle = parsePuzzle($("puzzle").value);
    const halting = parseHalting($("halting").value);
    const maxSteps = Number($("max-steps").value);
    if (!Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > 1024) throw new Error("max steps must be 1 to 1024");
    drawGrid(puzzle, null, null);
    setStatus("solving ...");
    const tries = Number($("tries").value);
    if (!Number.isInteger(tries) || tries < 1 || tries > state.task.viewCount(state.side)) {
      throw new Error(`tries must be 1 to ${Math.min(state.task.viewCount(state.side), 64)}`);
    }
    const solutions = state.task.solutionCount ? state.task.solutionCount(puzzle, state.side) : null;
    if (solutions === 0) throw new Error("this puzzle has no solution: no answer can pass the rules");
    const result = await solveWithTries(puzzle, halting, maxSteps, tries);
    const ok = result.verified;
    $("answer").textContent = state.task.toText(result.answer);
    $("steps").textContent = String(result.steps);
    $("copy").textContent = String(result.copy);
    $("reason").textContent = result.reason;
    $("ms").textContent = (1000 * result.seconds / result.steps).toFixed(1);
    $("verdict").textContent = ok ? "a valid solution of the puzzle as given" : "NOT a valid solution";
    drawGrid(puzzle, result.answer, null);
    const tried = result.copies > 1 ? `; copy ${result.copy} of ${result.copies} tried` : "";
    const several = solutions !== null && solutions > 1 ? " (the puzzle has more than one solution)" : "";
    setStatus(`${result.steps} step${result.steps === 1 ? "" : "s"}, stopped by ${result.reason}${tried}` +
              (ok ? ", accepted by the rules" : "") + several, ok ? "good" : "bad");
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
    button.onclick = () => {
      $("puzzle").value = state.task.display(puzzles[Math.floor(Math.random() * puzzles.length)], state.side);
      onInput();
    };
    box.appendChild(button);
  }
}

function clearResult() {
  // A new puzzle: nothing of the previous answer may stay on screen (its grid, steps or verdict).
  for (const id of ["steps", "reason", "copy", "ms", "verdict"]) $(id).textContent = "-";
  $("answer").textContent = "";
  $("log").textContent = "";
}

function onInput() {
  clearResult();
  try { drawGrid(parsePuzzle($("puzzle").value), null, null); setStatus(""); }
  catch (err) { $("grid").innerHTML = ""; setStatus(err.message, "bad"); }
}

// ---- Where the model runs: WebGPU when an adapter exists, else WASM with the reason ----
async function webgpuAdapter() {
  // An API without an adapter (headless, no GPU driver) cannot run anything: say which of the two it is.
  if (!("gpu" in navigator)) return { missing: "is not in this browser" };
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { missing: "has no adapter (no usable GPU)" };
    const info = adapter.info || {};
    return { name: [info.vendor, info.architecture].filter(Boolean).join(" ") || "an adapter" };
  } catch { return { missing: "has no adapter (no usable GPU)" }; }
}

async function pickBackend() {
  const asked = params.get("ep") || "auto";
  if (!["auto", "webgpu", "wasm"].includes(asked)) throw new Error(`?ep= takes auto, webgpu or wasm (got ${asked})`);
  if (asked === "wasm") return { ep: "wasm", why: "asked for (?ep=wasm)" };
  const adapter = await webgpuAdapter();
  if (adapter.name) return { ep: "webgpu", why: `adapter: ${adapter.name}` };
  if (asked === "webgpu") throw new Error(`WebGPU was asked for (?ep=webgpu) but it ${adapter.missing}`);
  return { ep: "wasm", why: `WebGPU ${adapter.missing}` };
}

async function createSession(model) {
  // A WebGPU session that cannot be made (a driver refusing the graph) falls back to WASM, saying why.
  let backend = await pickBackend();
  if (backend.ep === "webgpu") {
    try {
      ort = await import("./ort/ort.webgpu.min.mjs");
      configureWasm();
      return { session: await ort.InferenceSession.create(model, { executionProviders: ["webgpu"] }), backend };
    } catch (err) {
      if (params.get("ep") === "webgpu") throw err;
      backend = { ep: "wasm", why: `WebGPU could not run the model (${err.message})` };
    }
  }
  ort = await import("./ort/ort.wasm.min.mjs");
  configureWasm();
  return { session: await ort.InferenceSession.create(model, { executionProviders: ["wasm"] }), backend };
}

function configureWasm() {
  const threads = Number(params.get("threads") || 1);
  ort.env.wasm.numThreads = self.crossOriginIsolated ? threads : 1;   // threads need COOP/COEP headers
  ort.env.wasm.wasmPaths = new URL("./ort/", import.meta.url).href;
}

// ---- Offline and installable: the service worker, and an install button where the browser offers one ----
async function keepOffline() {
  if (!("serviceWorker" in navigator)) { $("offline").textContent = "this browser cannot keep the app offline"; return; }
  const updating = Boolean(navigator.serviceWorker.controller);
  // a rebuilt site's worker takes over once its files are cached and checked: reload into that version whole
  navigator.serviceWorker.addEventListener("controllerchange", () => { if (updating) location.reload(); });
  try {
    await navigator.serviceWorker.register("sw.js");
    await navigator.serviceWorker.ready;
    $("offline").textContent = "kept on this device: works offline";
    document.body.dataset.offline = "ready";
  } catch (err) {
    $("offline").textContent = `not kept offline: ${err.message}`;
  }
}

window.addEventListener("beforeinstallprompt", (event) => {
  event.preventDefault();
  const button = $("install");
  button.hidden = false;
  button.onclick = async () => { button.hidden = true; await event.prompt(); };
});

function useRecordedSettings(settings) {
  // The model's recorded settings (export metadata) are the page's defaults; the controls still change them.
  $("max-steps").value = (settings && settings.max_steps) || state.meta.halt_max_steps;
  $("tries").value = (settings && settings.tries) || 1;
  const halting = (settings && settings.halting) || "act";
  if (![...$("halting").options].some((o) => o.value === halting)) {
    $("halting").add(new Option(`${halting} (the model's recorded setting)`, halting));
  }
  $("halting").value = halting;
}

async function main() {
  try {
    state.meta = await (await fetch("metadata.json")).json();
    const site = await (await fetch("site.json")).json();
    state.samples = site.samples || {};
    state.side = state.meta.grid_shape[0];
    state.task = await import(`./tasks/${state.meta.task}.js`);
    $("title").textContent = state.task.title(state.side);
    $("hint").innerHTML = state.task.hint;
    $("puzzle").rows = state.meta.task === "sudoku" ? 3 : state.side;
    useRecordedSettings((state.meta.extra || {}).inference);
    const model = await fetchChecked(state.meta.model_file);
    state.init = new Float32Array(await fetchChecked(state.meta.init_state.file));
    ({ session: state.session, backend: state.backend } = await createSession(new Uint8Array(model)));
    $("backend").value = params.get("ep") || "auto";
    $("runs-on").textContent = `${state.backend.ep === "webgpu" ? "WebGPU" : "WASM (CPU)"}: ${state.backend.why}`;
    $("env").textContent = `ONNX Runtime Web ${ort.env.versions.web}, ${ort.env.wasm.numThreads} WASM thread(s); ` +
      `model ${state.meta.files[state.meta.model_file].slice(0, 12)}`;
    document.body.dataset.threads = String(ort.env.wasm.numThreads);
    document.body.dataset.backend = state.backend.ep;
    document.body.dataset.model = state.meta.files[state.meta.model_file];
    if (params.get("trace") === "1") { state.trace = []; window.trmState = state; }
    showSamples();
    const shared = params.get("puzzle");   // a link that opens with its puzzle
    if (shared) { $("puzzle").value = state.task.display(shared, state.side); onInput(); }
    $("puzzle").addEventListener("input", onInput);
    $("solve").addEventListener("click", onSolve);
    $("backend").addEventListener("change", () => {
      params.set("ep", $("backend").value);
      location.search = params.toString();
    });
    setStatus("model verified and loaded");
    document.body.dataset.state = "ready";
  } catch (err) {
    setStatus(`could not load the model: ${err.message}`, "bad");
    document.body.dataset.state = "error";
  }
  await keepOffline();
}

main();
