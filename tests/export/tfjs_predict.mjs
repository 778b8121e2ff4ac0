// Loads a TF.js model (model.json + weight shards) and prints its predictions as JSON on the
// last line of stdout: a layers model with tf.loadLayersModel, a graph model ("format":
// "graph-model") with tf.loadGraphModel.
//
//   node tests/export/tfjs_predict.mjs MODEL_DIR INPUTS_JSON
//
// INPUTS_JSON holds {"inputs": [{"shape": [...], "dtype": "float32"|"int32", "data": [...]}]}
// (one entry per model input, in the model's input order; for a graph model an entry may add
// "name": the inputs are then passed by their signature names). The printed JSON is
// {"outputs": [{"shape": [...], "data": [...]}], "weights": ["<layer>/kernel", ...]}; for a
// graph model "weights" lists its output names (GraphModel.outputNodes) instead.
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
        signature: model.signature,
        userDefinedMetadata: model.userDefinedMetadata,
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
  const format = JSON.parse(fs.readFileSync(path.join(modelDir, "model.json"), "utf8")).format;
  const graph = format === "graph-model";
  const model = graph ? await tf.loadGraphModel(fileHandler(modelDir))
    : await tf.loadLayersModel(fileHandler(modelDir));
  const spec = JSON.parse(fs.readFileSync(inputsPath, "utf8"));
  const inputs = spec.inputs.map((x) => tf.tensor(x.data, x.shape, x.dtype || "float32"));
  let feed = inputs.length === 1 ? inputs[0] : inputs;
  if (graph && spec.inputs.every((x) => x.name)) {
    feed = {};
    spec.inputs.forEach((x, i) => { feed[x.name] = inputs[i]; });
  }
  let outputs = model.predict(feed);
  if (!Array.isArray(outputs)) outputs = [outputs];
  const result = {
    outputs: outputs.map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) })),
    weights: graph ? model.outputNodes : model.weights.map((w) => w.originalName),
  };
  process.stdout.write("\n" + JSON.stringify(result) + "\n");
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
