// The numpyflow browser demo: classifies a drawing or a test image with the same model in
// TensorFlow.js and in ONNX Runtime Web, both loaded from this server (no CDN).
//
// Test hook (used by tests/examples/test_web_demo.py): window.numpyflowDemo
//   .ready             a Promise, settled once both runtimes have loaded (or failed to)
//   .classify(pixels)  runs both runtimes on 28*28 floats in [0, 1]; resolves to
//                      {tfjs: [p0..p9] | null, onnx: [...] | null}
//   .lastInput         the Float32Array the last classification used
// Each result panel (#tfjs, #onnx) carries data-state ("loading", "ready", "running", "done",
// "error", "unavailable"), data-input (which input its result belongs to: "sample-3",
// "drawing-2", ...), data-class-index, and one li[data-probability] per class.

const TFJS_URL = "/node_modules/@tensorflow/tfjs/dist/tf.fesm.min.js";
const ORT_URL = "/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs";
const ARTIFACTS = "artifacts/";

const pad = document.getElementById("pad");
const padContext = pad.getContext("2d");
const statusLine = document.getElementById("status");
const panels = { tfjs: document.getElementById("tfjs"), onnx: document.getElementById("onnx") };
const runtimes = { tfjs: null, onnx: null };
let demo = null;
let queue = Promise.resolve();  // runs one classification at a time, in click order
let drawings = 0;
let showingSample = false;

class Unavailable extends Error {}

async function loadTfjs() {
  const tf = await import(TFJS_URL);
  // The CPU backend computes in float32 like model.predict; WebGL may use 16-bit floats.
  await tf.setBackend("cpu");
  const model = await tf.loadLayersModel(ARTIFACTS + demo.tfjs);
  return {
    label: `${tf.version.tfjs}, ${tf.getBackend()} backend`,
    async predict(pixels) {
      const input = tf.tensor(pixels, [1, ...demo.input_shape], "float32");
      const output = model.predict(input);
      const probabilities = await output.data();
      tf.dispose([input, output]);
      return Array.from(probabilities);
    },
  };
}

async function loadOnnx() {
  if (!demo.onnx) throw new Unavailable(`No model.onnx: ${demo.onnx_unavailable}`);
  const ort = await import(ORT_URL);
  // Several threads need a cross-origin-isolated page; one is plenty for this model.
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(ARTIFACTS + demo.onnx,
                                                    { executionProviders: ["wasm"] });
  return {
    label: "wasm backend",
    async predict(pixels) {
      const input = new ort.Tensor("float32", pixels, [1, ...demo.input_shape]);
      const outputs = await session.run({ [session.inputNames[0]]: input });
      return Array.from(outputs[session.outputNames[0]].data);
    },
  };
}

function setState(name, state, message = "") {
  panels[name].dataset.state = state;
  panels[name].querySelector(".message").textContent = message;
}

function render(name, probabilities, inputId) {
  const panel = panels[name];
  if (probabilities.length !== demo.class_names.length) {
    throw new Error(`the model returned ${probabilities.length} values; expected one per ` +
                    `class (${demo.class_names.length})`);
  }
  const best = probabilities.indexOf(Math.max(...probabilities));
  panel.querySelector(".name").textContent = demo.class_names[best];
  panel.querySelector(".score").textContent = `${(100 * probabilities[best]).toFixed(1)}%`;
  const rows = probabilities.map((p, i) => {
    const row = document.createElement("li");
    row.dataset.probability = String(p);  // full precision, for the tests
    row.classList.toggle("best", i === best);
    const label = document.createElement("span");
    label.textContent = demo.class_names[i];
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.append(document.createElement("span"));
    bar.firstChild.style.width = `${(100 * p).toFixed(1)}%`;
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = `${(100 * p).toFixed(2)}%`;
    row.append(label, bar, value);
    return row;
  });
  panel.querySelector(".probs").replaceChildren(...rows);
  panel.dataset.classIndex = String(best);
  panel.dataset.input = inputId;
  setState(name, "done");
}

async function runAll(pixels, inputId) {
  window.numpyflowDemo.lastInput = pixels;
  const results = {};
  for (const name of Object.keys(runtimes)) {
    results[name] = null;
    if (!runtimes[name]) continue;  // failed to load: its panel shows why
    setState(name, "running");
    try {
      results[name] = await runtimes[name].predict(pixels);
      render(name, results[name], inputId);
    } catch (error) {
      setState(name, "error", `Prediction failed: ${error.message}`);
    }
  }
  return results;
}

function classify(pixels, inputId = "hook") {
  if (!(pixels instanceof Float32Array)) pixels = Float32Array.from(pixels);
  const size = demo.input_shape.reduce((a, b) => a * b, 1);
  if (pixels.length !== size) {
    return Promise.reject(new Error(`classify: expected ${size} pixels ` +
                                    `(${demo.input_shape.join("x")}), got ${pixels.length}`));
  }
  const run = queue.then(() => runAll(pixels, inputId));
  queue = run.catch(() => {});
  return run;
}

// -- Drawing pad -------------------------------------------------------------------------

function clearPad() {
  padContext.fillStyle = "#000";
  padContext.fillRect(0, 0, pad.width, pad.height);
  showingSample = false;
}

// The pad scaled down to the model's 28x28 grey levels in [0, 1] (Fashion-MNIST images are
// light on a black background, as the pad draws).
function padPixels() {
  const [height, width] = demo.input_shape;
  const small = document.createElement("canvas");
  small.width = width;
  small.height = height;
  const context = small.getContext("2d");
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = "high";
  context.drawImage(pad, 0, 0, width, height);
  const rgba = context.getImageData(0, 0, width, height).data;
  return Float32Array.from({ length: width * height }, (_, i) => rgba[4 * i] / 255);
}

function pointerPosition(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * pad.width / box.width,
          (event.clientY - box.top) * pad.height / box.height];
}

function setUpPad() {
  clearPad();
  padContext.lineCap = padContext.lineJoin = "round";
  let drawing = false;
  pad.addEventListener("pointerdown", (event) => {
    if (showingSample) clearPad();
    drawing = true;
    pad.setPointerCapture(event.pointerId);
    padContext.strokeStyle = "#fff";
    padContext.lineWidth = 24;
    padContext.beginPath();
    padContext.moveTo(...pointerPosition(event));
    padContext.lineTo(...pointerPosition(event));
    padContext.stroke();
  });
  pad.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    padContext.lineTo(...pointerPosition(event));
    padContext.stroke();
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    drawings += 1;
    classify(padPixels(), `drawing-${drawings}`);
  };
  pad.addEventListener("pointerup", finish);
  pad.addEventListener("pointercancel", finish);
  document.getElementById("clear").addEventListener("click", () => {
    clearPad();
    for (const name of Object.keys(panels)) {
      if (!runtimes[name]) continue;
      panels[name].querySelector(".name").textContent = "–";
      panels[name].querySelector(".score").textContent = "";
      panels[name].querySelector(".probs").replaceChildren();
      delete panels[name].dataset.input;
      setState(name, "ready");
    }
  });
}

// -- Test images -------------------------------------------------------------------------

function greyImage(pixels, width, height) {
  const image = new ImageData(width, height);
  pixels.forEach((v, i) => image.data.set([v, v, v, 255], 4 * i));
  return image;
}

function setUpSamples() {
  const [height, width] = demo.input_shape;
  const container = document.getElementById("samples");
  demo.samples.forEach((sample, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sample";
    button.dataset.index = String(index);
    const name = sample.label === null ? `test image ${index}` : demo.class_names[sample.label];
    button.title = name;
    button.setAttribute("aria-label", `Classify test image ${index} (${name})`);
    const thumbnail = document.createElement("canvas");
    thumbnail.width = width;
    thumbnail.height = height;
    thumbnail.getContext("2d").putImageData(greyImage(sample.pixels, width, height), 0, 0);
    button.append(thumbnail);
    button.addEventListener("click", () => {
      padContext.imageSmoothingEnabled = false;
      padContext.drawImage(thumbnail, 0, 0, pad.width, pad.height);
      showingSample = true;
      // The exact pixels, as model.predict(x / 255.0) sees them, not the pad scaled back.
      classify(Float32Array.from(sample.pixels, (v) => v / 255), `sample-${index}`);
    });
    container.append(button);
  });
}

// -- Start -------------------------------------------------------------------------------

async function start() {
  const response = await fetch(ARTIFACTS + "demo.json");
  if (!response.ok) {
    throw new Error(`${ARTIFACTS}demo.json: HTTP ${response.status}; run ` +
                    "python examples/web/export_model.py first");
  }
  demo = await response.json();
  setUpPad();
  setUpSamples();
  const loaders = { tfjs: loadTfjs, onnx: loadOnnx };
  await Promise.all(Object.entries(loaders).map(async ([name, load]) => {
    try {
      runtimes[name] = await load();
      panels[name].querySelector(".backend").textContent = `(${runtimes[name].label})`;
      setState(name, "ready");
    } catch (error) {
      setState(name, error instanceof Unavailable ? "unavailable" : "error",
               error instanceof Unavailable ? error.message : `Failed to load: ${error.message}`);
    }
  }));
  const loaded = Object.keys(runtimes).filter((name) => runtimes[name]);
  statusLine.textContent = loaded.length
    ? "Ready: draw, or click a test image."
    : "No runtime could load the model (see the panels).";
}

window.numpyflowDemo = { classify, lastInput: null, ready: null };
window.numpyflowDemo.ready = start().catch((error) => {
  statusLine.textContent = error.message;
  for (const name of Object.keys(panels)) setState(name, "error", error.message);
});
