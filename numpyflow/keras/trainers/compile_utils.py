"""What `compile()` resolves: the losses to minimize and the metrics to report, per output.

A model may return one tensor, a list/tuple or a dict of tensors. `loss`, `loss_weights`
and `metrics` then say what applies to which output, and the targets `y` line up with
the outputs, as in Keras 3 (keras/src/trainers/compile_utils.py, Keras 3.12):

- `loss`: one loss (applied to every output), a list (one per output, None for none),
  or a dict keyed by output name (outputs left out have no loss);
- `loss_weights`: a number (every output), a list, or a dict keyed by output name;
- `metrics`: for one output, a list of metrics; for several, a list with one entry per
  output (a metric or a list of metrics, or None), or a dict keyed by output name;
- `y`: like the outputs, a list in output order, or a dict keyed by output name.

Output names are the model's `output_names` (a functional model's output layers) or the
keys of a dict the model returns; a subclassed model returning a list has none.

Sample weights (`fit(sample_weight=...)`, class weights turned into them) weigh each
output's loss, reduced as its `Loss` says (`sum(loss * w) / batch size` by default), and
the `weighted_metrics`; the plain `metrics` ignore them, as in Keras. One array weighs
every output; a list or dict gives one per output, like `y`.

Log names, as Keras 3 writes them: `loss` is the total (weighted sum plus layer losses);
with several losses, each output's unweighted loss is `<name>_loss` too; metrics of a
named output are `<name>_<metric>`. Where an output has no name, a loss logs under its
own name (`mean_squared_error_loss`), and names that repeat get `_1`, `_2`, ... (Keras 3
does that for metrics; for losses it lets the second overwrite the first). A weighted
metric whose name an unweighted one already took becomes `[<output>_]weighted_<metric>`.
"""

import numbers

import numpyflow as tf
from numpyflow.framework import nest
from numpyflow.keras import losses as losses_module
from numpyflow.keras import metrics as metrics_module

_ACCURACY_NAMES = ("accuracy", "acc")


class Outputs:
    """How a model's outputs and the targets line up: one entry per output, in order.

    Args:
      y_pred: The model's output: a tensor, a list/tuple or a dict of tensors.
      output_names: The model's `output_names`, or None.
    """

    def __init__(self, y_pred, output_names=None):
        names = list(output_names) if output_names else None
        if isinstance(y_pred, dict):
            self.kind = dict
            # The model's order when it names these outputs, else nest.flatten's (sorted).
            self.keys = names if names and set(names) == set(y_pred) else sorted(y_pred)
            self.names = list(self.keys)
        elif isinstance(y_pred, (list, tuple)):
            self.kind = list
            self.keys = list(range(len(y_pred)))
            self.names = names if names and len(names) == len(y_pred) else [None] * len(y_pred)
        else:
            self.kind = None
            self.keys = [None]
            self.names = names if names and len(names) == 1 else [None]

    def __len__(self):
        return len(self.keys)

    @property
    def named(self):
        return all(name is not None for name in self.names)

    def flat_pred(self, y_pred):
        if self.kind is None:
            return [y_pred]
        return [y_pred[key] for key in self.keys]

    def flat_true(self, y_true, needed):
        """The targets of each output (None where not given), checked against the outputs.

        Args:
          y_true: `y` as given: an array, a list/tuple or a dict of arrays.
          needed: For each output, whether a loss or metric needs its target.
        """
        count = len(self.keys)
        if isinstance(y_true, dict):
            return self._targets_from_dict(y_true, needed)
        if isinstance(y_true, (list, tuple)):
            if count == 1 and len(y_true) == 1:
                return list(y_true)
            if len(y_true) != count:
                raise ValueError(f"The model has {count} output(s), but `y` is a "
                                 f"{type(y_true).__name__} of {len(y_true)} arrays. Pass one "
                                 f"target array per output{self._names_hint()}.")
            return list(y_true)
        if count != 1:
            raise ValueError(f"The model has {count} outputs, but `y` is a single array. Pass "
                             f"a list or a dict of {count} target arrays, one per "
                             f"output{self._names_hint()}.")
        return [y_true]

    def _targets_from_dict(self, y_true, needed):
        if not self.named:
            if len(self.keys) == 1 and len(y_true) == 1:
                return list(y_true.values())
            returned = self.kind.__name__ if self.kind else "tensor"
            raise ValueError(f"`y` is a dict (keys {sorted(y_true)}), but the model's outputs "
                             f"have no names: it returns a {returned}. Pass `y` as a list in "
                             f"the order of the outputs.")
        unexpected = [key for key in y_true if key not in self.names]
        if unexpected:
            raise ValueError(f"`y` has keys {unexpected} that are not outputs of the model. "
                             f"Expected keys among the output names {self.names}; received "
                             f"keys {list(y_true)}.")
        missing = [name for name, need in zip(self.names, needed)
                   if need and name not in y_true]
        if missing:
            raise ValueError(f"`y` has no target for the output(s) {missing}, which have a "
                             f"loss or metrics. Expected keys {self.names}; received keys "
                             f"{list(y_true)}.")
        return [y_true.get(name) for name in self.names]

    def flat_weights(self, sample_weight):
        """The sample weights of each output (None where none), as Keras 3 lines them up.

        One array weighs every output; a list/tuple has one entry per output (a single
        entry weighs all); a dict is keyed by output name.
        """
        count = len(self.keys)
        if sample_weight is None:
            return [None] * count
        if isinstance(sample_weight, dict):
            if not self.named:
                if count == 1 and len(sample_weight) == 1:
                    return list(sample_weight.values())
                raise ValueError(f"`sample_weight` is a dict (keys {sorted(sample_weight)}), "
                                 f"but the model's outputs have no names. Pass a list, one "
                                 f"array per output.")
            unexpected = [key for key in sample_weight if key not in self.names]
            if unexpected:
                raise ValueError(f"`sample_weight` has keys {unexpected} that are not outputs "
                                 f"of the model. Expected keys among {self.names}.")
            return [sample_weight.get(name) for name in self.names]
        if isinstance(sample_weight, (list, tuple)):
            if len(sample_weight) == 1:
                return list(sample_weight) * count
            if len(sample_weight) != count:
                raise ValueError(f"The model has {count} output(s), but `sample_weight` is a "
                                 f"{type(sample_weight).__name__} of {len(sample_weight)} "
                                 f"arrays. Pass one array for all outputs or one per "
                                 f"output{self._names_hint()}.")
            return list(sample_weight)
        return [sample_weight] * count

    def _names_hint(self):
        return f" (outputs: {self.names})" if self.named else ""

    def per_output(self, spec, argument):
        """`spec` (`loss`, `loss_weights`, `metrics`) as one entry per output.

        A dict is keyed by output name (outputs left out get None); a list/tuple has one
        entry per output; anything else applies to every output.
        """
        count = len(self.keys)
        if isinstance(spec, dict):
            if not self.named:
                raise ValueError(f"`{argument}` is a dict (keys {list(spec)}), but the model's "
                                 f"outputs have no names. Pass a list, one entry per output, "
                                 f"or return a dict from the model.")
            unexpected = [key for key in spec if key not in self.names]
            if unexpected:
                raise ValueError(f"In the dict argument `{argument}`, the keys {unexpected} do "
                                 f"not correspond to any model output. Expected keys among "
                                 f"{self.names}; received {argument}={spec!r}.")
            return [spec.get(name) for name in self.names]
        if isinstance(spec, (list, tuple)):
            if len(spec) != count:
                raise ValueError(f"For a model with {count} output(s), `{argument}` given as a "
                                 f"list needs {count} entries, one per output; received "
                                 f"{argument}={spec!r} of length {len(spec)}.")
            return list(spec)
        return [spec] * count


def _batch_size(tensor):
    return nest.flatten(tensor)[0].shape[0]


def _unique(names):
    """`names` with repeats renamed `<name>_1`, `<name>_2`, ... as Keras 3 does for metrics."""
    seen, unique = {}, []
    for name in names:
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name] - 1}"
        else:
            seen[name] = 1
        unique.append(name)
    return unique


def _loss_name(identifier, fn):
    if isinstance(identifier, str):
        return identifier
    if isinstance(fn, losses_module.Loss):
        return fn.name
    return getattr(fn, "__name__", type(fn).__name__)


def _check_loss_weight(weight):
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
        raise ValueError(f"`loss_weights` entries must be numbers; received {weight!r}.")


class CompiledLoss:
    """The compiled loss: per-output losses, weighted and summed.

    Losses are resolved in `compile()` (so unknown names fail there); which output each
    applies to is settled on the first batch, when the outputs are known.

    `compute(y, y_pred, sample_weight)` is what `Model.compute_loss` adds the layer losses
    to. Calling the object is the TF 2.x idiom of custom train steps,
    `self.compiled_loss(y, y_pred, sample_weight, regularization_losses=self.losses)`:
    it also adds `regularization_losses` and, as tf.keras 2 did, updates the model's
    `loss` metric with the result.
    """

    def __init__(self, loss, loss_weights=None, output_names=None, loss_tracker=None):
        if loss_weights is not None and not isinstance(loss_weights, (list, tuple, dict)):
            _check_loss_weight(loss_weights)
        self.identifier = loss
        self._loss = loss
        self._loss_weights = loss_weights
        self._output_names = output_names
        self._loss_tracker = loss_tracker
        self._resolved = nest.map_structure(losses_module.get, loss) \
            if isinstance(loss, (list, tuple, dict)) else losses_module.get(loss)
        self.fn = self._resolved  # The single loss, when there is one (as before).
        self.metrics = []         # Each output's loss tracker, when there are several losses.
        self._outputs = None
        self._flat_losses = None  # Per output: (function, weight) or None.

    def build(self, y_true, y_pred):
        outputs = Outputs(y_pred, self._output_names)
        identifiers = outputs.per_output(self._loss, "loss")
        resolved = outputs.per_output(self._resolved, "loss")
        weights = ([None] * len(outputs) if self._loss_weights is None
                   else outputs.per_output(self._loss_weights, "loss_weights"))
        flat_losses, names = [], []
        for identifier, fn, weight, name in zip(identifiers, resolved, weights, outputs.names):
            if weight is not None:
                _check_loss_weight(weight)
            if fn is None:
                flat_losses.append(None)
                continue
            flat_losses.append((fn, None if weight is None else float(weight)))
            names.append(name if name is not None else _loss_name(identifier, fn))
        if not names:
            raise ValueError(f"`loss` gives no loss for any of the model's {len(outputs)} "
                             f"outputs; received loss={self._loss!r}.")
        if len(names) > 1:
            self.metrics = [metrics_module.Mean(name=name)
                            for name in _unique([f"{name}_loss" for name in names])]
        self._outputs = outputs
        self._flat_losses = flat_losses

    def __call__(self, y_true, y_pred, sample_weight=None, regularization_losses=None):
        """The TF 2.x idiom: the loss plus `regularization_losses`, tracked as `loss`.

        Args:
          y_true: The targets, like the model's outputs.
          y_pred: The model's outputs.
          sample_weight: Optional weights of each sample (see the module docstring).
          regularization_losses: Optional list of scalar losses to add (`self.losses`).

        Returns:
          The total loss, a scalar Tensor.
        """
        total = self.compute(y_true, y_pred, sample_weight)
        if regularization_losses:
            # Scaled under tf.distribute as the compiled losses are (Loss objects scale
            # their means themselves), so the replicas' summed gradients count them once.
            total = total + losses_module.scale_loss_for_distribution(
                tf.add_n([tf.cast(tf.reduce_sum(extra), total.dtype)
                          for extra in regularization_losses]))
        if self._loss_tracker is not None:
            self._loss_tracker.update_state(losses_module.unscale_loss_for_distribution(total),
                                            sample_weight=_batch_size(y_pred))
        return total

    def compute(self, y_true, y_pred, sample_weight=None):
        """The weighted sum over outputs of each output's (sample-weighted) loss."""
        if self._outputs is None:
            self.build(y_true, y_pred)
        outputs = self._outputs
        if (outputs.kind is None and not isinstance(y_true, (list, tuple, dict))
                and not isinstance(sample_weight, (list, tuple, dict))):
            # One output, one target: the common case takes no detours.
            fn, weight = self._flat_losses[0]
            loss = _apply(fn, y_true, y_pred, sample_weight)
            return loss if weight is None else loss * weight
        targets = outputs.flat_true(y_true, [entry is not None for entry in self._flat_losses])
        trackers = iter(self.metrics)
        total = None
        for entry, target, prediction, weights in zip(self._flat_losses, targets,
                                                      outputs.flat_pred(y_pred),
                                                      outputs.flat_weights(sample_weight)):
            if entry is None:
                continue
            fn, weight = entry
            loss = _apply(fn, target, prediction, weights)
            tracker = next(trackers, None)
            if tracker is not None:  # Not scaled by `loss_weights`, as Keras 3 reports it.
                tracker.update_state(losses_module.unscale_loss_for_distribution(loss),
                                     sample_weight=_batch_size(prediction))
            if weight is not None:
                loss = loss * weight
            total = loss if total is None else total + loss
        return total


def _apply(fn, y_true, y_pred, sample_weight=None):
    if isinstance(fn, losses_module.Loss):
        return fn(y_true, y_pred, sample_weight=sample_weight)
    mask = getattr(y_pred, "_keras_mask", None)
    if sample_weight is None and mask is None:
        values = tf.convert_to_tensor(fn(y_true, y_pred))
        if values.shape.num_elements() == 0:  # An empty replica batch: 0, not NaN.
            return tf.reduce_sum(values)
        # Divided by N under a tf.distribute strategy of N replicas, as a Loss object is.
        return losses_module.scale_loss_for_distribution(tf.reduce_mean(values))
    # A plain function reduces as a Loss does by default: sum(loss * w) / batch size, with
    # the steps a Keras mask leaves out weighing 0.
    return losses_module.compute_weighted_loss(tf.convert_to_tensor(fn(y_true, y_pred)),
                                               sample_weight, mask=mask)


def _metrics_list(metrics, argument):
    """`metrics` / `weighted_metrics` as a list or dict, each entry checked at compile()."""
    if metrics is None:
        metrics = []
    elif isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
        metrics = [metrics]
    elif not isinstance(metrics, (list, tuple, dict)):
        raise ValueError(f"Expected `{argument}` argument to be a list, tuple, or dict. "
                         f"Received instead: {argument}={metrics!r} of type "
                         f"{type(metrics).__name__}.")
    for identifier in nest.flatten(metrics):  # Unknown names fail at compile(), not fit().
        if identifier is None:
            continue
        if isinstance(identifier, str) and identifier not in _ACCURACY_NAMES:
            metrics_module.get(identifier)
        elif not (isinstance(identifier, str) or callable(identifier)):
            raise ValueError(f"Expected every entry of `{argument}` to be a metric name, a "
                             f"Metric or a function; received {identifier!r}.")
    return metrics


class CompiledMetrics:
    """The compiled metrics, resolved on the first batch (when label shapes are known).

    'accuracy' becomes binary, sparse categorical or categorical accuracy from the shapes
    of labels and predictions, as in Keras; it keeps the name the user wrote. The
    `weighted_metrics` are updated with the sample weights, the others without.

    Args:
      metrics: `compile()`'s `metrics`.
      output_names: The model's output names, or None.
      weighted_metrics: `compile()`'s `weighted_metrics`, given like `metrics`.
    """

    def __init__(self, metrics, output_names=None, weighted_metrics=None):
        self._identifiers = _metrics_list(metrics, "metrics")
        self._weighted_identifiers = _metrics_list(weighted_metrics, "weighted_metrics")
        self._output_names = output_names
        self.metrics = None         # Every Metric, unweighted then weighted, once built.
        self._outputs = None
        self._flat_metrics = None   # Per output: a list of Metrics.
        self._flat_weighted = None  # Per output: a list of weighted Metrics.
        self._names = None          # Each metric's log name.

    def _spec(self, outputs, identifiers, argument):
        if len(outputs) == 1:
            # One output: every metric is for it (a dict's values too, as Keras flattens it).
            return [[m for m in nest.flatten(identifiers) if m is not None]]
        if not identifiers:
            return [None] * len(outputs)
        return outputs.per_output(identifiers, argument)

    def build(self, y_true, y_pred):
        outputs = Outputs(y_pred, self._output_names)
        spec = self._spec(outputs, self._identifiers, "metrics")
        weighted_spec = self._spec(outputs, self._weighted_identifiers, "weighted_metrics")
        needed = [bool(entry) or bool(weighted)
                  for entry, weighted in zip(spec, weighted_spec)]
        targets = outputs.flat_true(y_true, needed)
        predictions = outputs.flat_pred(y_pred)
        single = len(outputs) == 1
        prefixes = ["" if single or name is None else f"{name}_" for name in outputs.names]
        self._flat_metrics = _resolve_all(spec, targets, predictions)
        self._flat_weighted = _resolve_all(weighted_spec, targets, predictions)
        self._outputs = outputs
        self._needed = needed
        # Keras 3's names: repeats get `_1`, `_2`; a weighted metric whose name is taken
        # becomes `<output>_weighted_<name>` (then `_1`, ... if that repeats too).
        counts, names = {}, []
        for flat, weighted in ((self._flat_metrics, False), (self._flat_weighted, True)):
            for prefix, resolved in zip(prefixes, flat):
                for metric in resolved:
                    name = prefix + metric.name
                    if name in counts and weighted:
                        name = f"{prefix}weighted_{metric.name}"
                    if name in counts:
                        counts[name] += 1
                        name = f"{name}_{counts[name] - 1}"
                    else:
                        counts[name] = 1
                    names.append(name)
        self._names = names
        self.metrics = [metric for flat in (self._flat_metrics, self._flat_weighted)
                        for resolved in flat for metric in resolved]

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Updates every metric with a batch; only the weighted ones see `sample_weight`."""
        if self._outputs is None:
            self.build(y_true, y_pred)
        outputs = self._outputs
        if outputs.kind is None and not isinstance(y_true, (list, tuple, dict)) \
                and not isinstance(sample_weight, (list, tuple, dict)):
            for metric in self._flat_metrics[0]:
                metric.update_state(y_true, y_pred)
            for metric in self._flat_weighted[0]:
                metric.update_state(y_true, y_pred, sample_weight=sample_weight)
            return
        targets = outputs.flat_true(y_true, self._needed)
        weights = outputs.flat_weights(sample_weight)
        for resolved, weighted, target, prediction, weight in zip(
                self._flat_metrics, self._flat_weighted, targets, outputs.flat_pred(y_pred),
                weights):
            for metric in resolved:
                metric.update_state(target, prediction)
            for metric in weighted:
                metric.update_state(target, prediction, sample_weight=weight)

    @property
    def log_names(self):
        """Each metric's name in the logs (`<output>_<metric>` for named outputs), in order."""
        return self._names or []

    def result(self):
        """`{log name: value}` for every metric, in order."""
        return {name: metric.result() for name, metric in zip(self.log_names, self.metrics or ())}

    def reset_state(self):
        for metric in self.metrics or ():
            metric.reset_state()


def _resolve_all(spec, targets, predictions):
    """Per output, the Metrics its entry of `spec` names."""
    flat = []
    for entry, target, prediction in zip(spec, targets, predictions):
        entries = [] if entry is None else entry if isinstance(entry, (list, tuple)) \
            else [entry]
        flat.append([_resolve(identifier, target, prediction)
                     for identifier in entries if identifier is not None])
    return flat


def _resolve(identifier, y_true, y_pred):
    if isinstance(identifier, metrics_module.Metric):
        return identifier
    if isinstance(identifier, str) and identifier in _ACCURACY_NAMES:
        true_rank, pred_rank = y_true.ndim, y_pred.ndim
        true_last = y_true.shape[-1] if true_rank else 1
        pred_last = y_pred.shape[-1] if pred_rank else 1
        if pred_last == 1:
            fn = metrics_module.binary_accuracy
        elif true_rank < pred_rank or (true_last == 1 and pred_last > 1):
            fn = metrics_module.sparse_categorical_accuracy
        else:
            fn = metrics_module.categorical_accuracy
        return metrics_module.MeanMetricWrapper(fn, name=identifier)
    resolved = metrics_module.get(identifier)
    if isinstance(resolved, metrics_module.Metric):
        return resolved
    name = identifier if isinstance(identifier, str) else resolved.__name__
    return metrics_module.MeanMetricWrapper(resolved, name=name)
