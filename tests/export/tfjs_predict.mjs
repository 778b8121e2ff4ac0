// Loads a TF.js layers model (model.json + weight shards) with tf.loadLayersModel and prints
// its predictions as JSON on the last line of stdout.
//
//   node tests/export/tfjs_predict.mjs MODEL_DIR INPUTS_JSON
//
// INPUTS_JSON holds {"inputs": [{"shape": [...], "dtype": "float32"|"int32", "data": [...]}]}
// (one entry per model input, in the model's input order). The printed JSON is
// {"outputs": [{"shape": [...], "data": [...]}], "weights": ["<layer>/kernel", ...]}.
// Runs on the pure-JavaScript CPU backend; the files are read with `fs` through
// tf.io.fromMemory-style artifacts (tfjs-node, which would add file://, is not used).
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";

function fileHandler(modelDir) {
  return {
    async load() {
      const model = JSON.parse(fs.readFileSync(path.join(modelDir, "model.json"), "utf8"));
      const specs = [];
      const buffers = [];
      for (const group of model.weightsManifest) {
        specs.push(...group.weights);
        for (const shard of group.paths) {
          buffers.push(fs.readFileSync(path.join(modelDir, shard)));
        }
      }
      const joined = Buffer.concat(buffers);
      const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.length);
      return {
        modelTopology: model.modelTopology,
        format: model.format,
        generatedBy: model.generatedBy,
        convertedBy: model.convertedBy,
        weightSpecs: specs,
        weightData,
      };
    },
  };
}

async function main() {
  const [modelDir, inputsPath] = process.argv.slice(2);
  if (!modelDir || !inputsPath) {
    console.error("usage: node tfjs_predict.mjs MODEL_DIR INPUTS_JSON");
    process.exit(2);
  }
  await tf.setBackend("cpu");
  const model = await tf.loadLayersModel(fileHandler(modelDir));
  const spec = JSON.parse(fs.readFileSync(inputsPath, "utf8"));
  const inputs = spec.inputs.map((x) => tf.tensor(x.data, x.shape, x.dtype || "float32"));
  let outputs = model.predict(inputs.length === 1 ? inputs[0] : inputs);
  if (!Array.isArray(outputs)) outputs = [outputs];
  const result = {
    outputs: outputs.map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) })),
    weights: model.weights.map((w) => w.originalName),
  };
  process.stdout.write("\n" + JSON.stringify(result) + "\n");
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
