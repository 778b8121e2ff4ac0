"""Command line: export a saved Keras model for a deployment runtime.

    python -m numpyflow.export model.keras --format tfjs out_dir
    python -m numpyflow.export model.keras --format tflite model.tflite
    python -m numpyflow.export model.keras --format onnx model.onnx

Reads a `.keras` (or legacy `.h5`) model with `keras.models.load_model` (safe mode: no code
from the file runs) and writes it with `Model.export`.
"""

import argparse
import sys

from numpyflow.export import FORMATS


def main(argv=None):
    """Runs the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m numpyflow.export",
        description="Export a saved Keras model (.keras/.h5) for LiteRT/TFLite, "
                    "ONNX Runtime, TensorFlow.js or TensorFlow Serving (SavedModel).")
    parser.add_argument("model", help="path of a .keras or .h5 model file")
    parser.add_argument("output", help="where to write: a .tflite or .onnx file, or a "
                                       "directory for --format tfjs or tf_saved_model")
    parser.add_argument("--format", required=True, choices=FORMATS,
                        help="target format")
    parser.add_argument("--weight-shard-size-bytes", type=int, default=None,
                        help="largest weight shard for tfjs (default 4 MiB)")
    parser.add_argument("--opset", type=int, default=None,
                        help="ONNX opset version for --format onnx")
    args = parser.parse_args(argv)
    if args.weight_shard_size_bytes is not None and args.format != "tfjs":
        parser.error(f"--weight-shard-size-bytes applies to --format tfjs only, not "
                     f"--format {args.format}")
    if args.opset is not None and args.format != "onnx":
        parser.error(f"--opset applies to --format onnx only, not --format {args.format}")
    from numpyflow import keras
    try:
        model = keras.models.load_model(args.model, compile=False)
        options = {}
        if args.weight_shard_size_bytes is not None:
            options["weight_shard_size_bytes"] = args.weight_shard_size_bytes
        if args.opset is not None:
            options["opset_version"] = args.opset
        model.export(args.output, format=args.format, verbose=True, **options)
    except (ValueError, NotImplementedError, OSError, ImportError) as error:
        # (ImportError: an optional package the format needs, named in the message.)
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
