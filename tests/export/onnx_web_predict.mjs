// Runs an ONNX model with onnxruntime-web (the WebAssembly build the browser demo loads,
// pinned in package.json) in Node, and prints its outputs as JSON on the last line of stdout.
//
//   node tests/export/onnx_web_predict.mjs MODEL.onnx INPUTS_JSON
//
// INPUTS_JSON holds {"inputs": [{"name": "...", "shape": [...], "data": [...]}]} (float32).
// The printed JSON is {"outputs": [{"name": "...", "shape": [...], "data": [...]}]}, in the
// session's output order.
import fs from "node:fs";
import * as ort from "onnxruntime-web";

const [modelPath, inputsPath] = process.argv.slice(2);
// One thread: Node has no cross-origin-isolation question, but the checks stay deterministic.
ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(new Uint8Array(fs.readFileSync(modelPath)),
                                                  { executionProviders: ["wasm"] });
const spec = JSON.parse(fs.readFileSync(inputsPath, "utf8"));
const feeds = {};
for (const input of spec.inputs) {
  feeds[input.name] = new ort.Tensor("float32", Float32Array.from(input.data), input.shape);
}
const results = await session.run(feeds);
const outputs = session.outputNames.map((name) => ({
  name, shape: Array.from(results[name].dims), data: Array.from(results[name].data),
}));
console.log(JSON.stringify({ outputs }));
