"""`Optimizer`: the base class that turns gradients into variable updates.

`apply_gradients(zip(grads, vars))` is one training step: it drops missing gradients,
clips the rest if asked, applies weight decay, then calls `update_step(gradient,
variable)` for each variable and counts the step in `iterations`. Subclasses keep
per-variable state ("slots", e.g. Adam's moments) in Variables made by `_create_slots`.

The update rules are those of Keras 2.11+ / Keras 3 ("new" optimizers).
"""

import inspect
import logging
import warnings

import numpyflow as tf
from numpyflow.distribute import strategy as distribute_lib
from numpyflow.keras.optimizers import schedules

_log = logging.getLogger("numpyflow")


class _CallableList(list):
    """A list that also answers `()`: `optimizer.variables` works as property and method."""

    def __call__(self):
        return self


class Optimizer:
    """Base class of Keras optimizers.

    Args:
      learning_rate: A float, a `keras.optimizers.schedules.LearningRateSchedule` (called
        with the step number each step), or a zero-argument callable returning the rate.
      weight_decay: If set, each step first shrinks each variable by
        `variable * weight_decay * learning_rate` (decoupled weight decay).
      clipnorm: If set, each gradient is rescaled so that its L2 norm is at most this.
      clipvalue: If set, gradient values are clipped to [-clipvalue, clipvalue].
      global_clipnorm: If set, all gradients are rescaled together so that the L2 norm of
        their concatenation is at most this. Only one of the three clipping options may
        be set.
      name: The optimizer's name.
      **kwargs: Older spellings Keras accepted: `lr` (for `learning_rate`) and `decay`
        (the legacy optimizers' inverse-time decay, `lr / (1 + decay * iterations)`).

    Subclasses implement `_create_slots(variable)` (optional) and
    `update_step(gradient, variable)`:

    >>> import numpyflow as tf
    >>> class SignSGD(tf.keras.optimizers.Optimizer):
    ...     def update_step(self, gradient, variable, learning_rate):
    ...         variable.assign_sub(tf.cast(learning_rate, variable.dtype) * tf.sign(gradient))
    >>> v = tf.Variable([1., -1.])
    >>> _ = SignSGD(learning_rate=0.5).apply_gradients([(tf.constant([3., -2.]), v)])
    >>> v.numpy()
    array([ 0.5, -0.5], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name=None, **kwargs):
        learning_rate = self._process_kwargs(kwargs, learning_rate)
        if use_ema:
            raise NotImplementedError("Optimizer: `use_ema=True` (exponential moving average "
                                      "of the weights) is not supported yet.")
        clip_options = {"clipnorm": clipnorm, "clipvalue": clipvalue,
                        "global_clipnorm": global_clipnorm}
        if sum(value is not None for value in clip_options.values()) > 1:
            raise ValueError(f"Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                             f"set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}.")
        for option, value in clip_options.items():
            if value is not None and value <= 0:
                raise ValueError(f"`{option}` must be positive; received {option}={value}.")
        self.name = name or type(self).__name__
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self._iterations = tf.Variable(0, dtype=tf.int64, trainable=False,
                                       name=f"{self.name}/iteration")
        self._learning_rate = self._build_learning_rate(learning_rate)
        self._variables = [self._iterations]
        self._trainable_variables = []  # The variables this optimizer updates, in order.
        self._index = {}                # id(variable) -> position in _trainable_variables.
        self._slots = {}                # id(variable) -> tuple of slot Variables.
        self._exclude_ids = set()
        self._exclude_variables = []    # The Variables behind _exclude_ids (for copies).
        self._exclude_names = ()
        self._step_cache = {}           # Per-step values (learning rate by dtype, ...).
        self.built = False
        # Keras 3 passes the learning rate to update_step; Keras 2.11 does not.
        self._update_takes_lr = "learning_rate" in inspect.signature(self.update_step).parameters

    def _process_kwargs(self, kwargs, learning_rate):
        self._legacy_decay = float(kwargs.pop("decay", 0.0) or 0.0)
        if "lr" in kwargs:
            warnings.warn("The `lr` argument is deprecated, use `learning_rate` instead.",
                          stacklevel=4)
            learning_rate = kwargs.pop("lr")
        for ignored in ("is_legacy_optimizer", "jit_compile", "gradient_aggregator",
                        "gradient_transformers", "mesh"):
            kwargs.pop(ignored, None)
        for unsupported in ("loss_scale_factor", "gradient_accumulation_steps"):
            if kwargs.pop(unsupported, None) is not None:
                raise NotImplementedError(f"Optimizer: `{unsupported}` is not supported yet.")
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) "
                            f"{sorted(kwargs)}.")
        return learning_rate

    # -- learning rate and step counter -------------------------------------------------
    def _build_learning_rate(self, learning_rate):
        if _computed_each_step(learning_rate):
            return learning_rate
        if isinstance(learning_rate, tf.Variable) and learning_rate.dtype.is_floating:
            return learning_rate  # The caller's Variable: assigning to it changes the rate.
        return tf.Variable(_learning_rate_number(learning_rate, ValueError), dtype=tf.float32,
                           trainable=False, name=f"{self.name}/learning_rate")

    @property
    def learning_rate(self):
        """The learning rate: a Variable (assignable), or the schedule's current value."""
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            return self._learning_rate(self._iterations)
        if isinstance(self._learning_rate, tf.Variable):
            return self._learning_rate
        return self._learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        if _computed_each_step(value):
            self._learning_rate = value
        elif isinstance(self._learning_rate, tf.Variable):
            self._learning_rate.assign(_learning_rate_number(value, TypeError))
        elif isinstance(self._learning_rate, schedules.LearningRateSchedule):
            raise TypeError("This optimizer was created with a `LearningRateSchedule` as its "
                            "`learning_rate`, so its learning rate cannot be set to a number; "
                            f"received {value!r}.")
        else:
            self._learning_rate = self._build_learning_rate(value)

    lr = learning_rate  # Keras 2 code reads and sets `optimizer.lr` too.

    @property
    def iterations(self):
        """The number of steps applied so far (an int64 Variable)."""
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        self._iterations.assign(int(value))

    def _current_learning_rate(self):
        """The learning rate for this step as a float32 Tensor."""
        learning_rate = tf.cast(tf.convert_to_tensor(self.learning_rate), tf.float32)
        if self._legacy_decay:
            steps = tf.cast(self._iterations, tf.float32)
            learning_rate = learning_rate / (1. + self._legacy_decay * steps)
        return learning_rate

    def _per_step(self, key, dtype, compute):
        """`compute(dtype)`, computed once per step and dtype (scalars shared by variables)."""
        cached = self._step_cache.get((key, dtype))
        if cached is None:
            cached = self._step_cache[(key, dtype)] = compute(dtype)
        return cached

    def _learning_rate_as(self, dtype):
        """This step's learning rate in `dtype` (computed once per step)."""
        return self._per_step("learning_rate", dtype, self._compute_learning_rate)

    def _compute_learning_rate(self, dtype):
        learning_rate = self._step_cache.get("learning_rate")
        if learning_rate is None:
            learning_rate = self._step_cache["learning_rate"] = self._current_learning_rate()
        return tf.cast(learning_rate, dtype)

    # -- variables and slots ------------------------------------------------------------
    def build(self, var_list):
        """Creates the per-variable state (slots) for the variables not seen before."""
        for variable in var_list:
            if id(variable) in self._index:
                continue
            self._index[id(variable)] = len(self._trainable_variables)
            self._trainable_variables.append(variable)
            self._slots[id(variable)] = tuple(self._create_slots(variable))
        self.built = True
        if getattr(self, "_checkpoint_deferred", None):
            tf.train.restore_deferred(self)  # Slot values a checkpoint restored before now.

    def _create_slots(self, variable):
        """The slot Variables `update_step` keeps for `variable`. None by default."""
        return ()

    def _slots_of(self, variable):
        return self._slots[id(variable)]

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros",
                                    initial_value=None):
        """A non-trainable Variable of `reference_variable`'s shape and dtype, zeros by default.

        Args:
          reference_variable: The model variable the new one shadows.
          name: A short name ("m", "velocity", ...).
          initializer: "zeros" or "ones" (or pass `initial_value`).
          initial_value: An explicit starting value (a number or array of the shape).
        """
        if initial_value is None:
            if initializer not in ("zeros", "ones"):
                raise ValueError(f"add_variable_from_reference: initializer must be 'zeros' "
                                 f"or 'ones'; received {initializer!r}.")
            make = tf.zeros if initializer == "zeros" else tf.ones
            initial_value = make(tuple(reference_variable.shape),
                                 dtype=reference_variable.dtype)
        else:
            initial_value = tf.cast(tf.convert_to_tensor(initial_value),
                                    reference_variable.dtype)
            initial_value = tf.broadcast_to(initial_value, tuple(reference_variable.shape))
        base_name = reference_variable.name.split(":")[0]
        slot = tf.Variable(initial_value, trainable=False, dtype=reference_variable.dtype,
                           name=f"{base_name}/{name or 'slot'}")
        self._variables.append(slot)
        return slot

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None):
        """A non-trainable state Variable of `shape` ("zeros" or "ones")."""
        make = tf.ones if initializer == "ones" else tf.zeros
        variable = tf.Variable(make(tuple(shape), dtype=dtype or tf.float32), trainable=False,
                               name=f"{self.name}/{name or 'variable'}")
        self._variables.append(variable)
        return variable

    def _get_variable_index(self, variable):
        return self._index[id(variable)]

    def _var_key(self, variable):
        return id(variable)

    @property
    def variables(self):
        """The optimizer's own Variables: `iterations`, then the slots (callable, as in Keras)."""
        return _CallableList(self._variables)

    # -- copying (pickle, copy.deepcopy) ------------------------------------------------
    def __getstate__(self):
        # The per-variable tables are keyed by id(), which a copy's Variables do not share:
        # they travel in `_trainable_variables` order and are keyed anew by __setstate__.
        state = self.__dict__.copy()
        state["_slots"] = [self._slots[id(v)] for v in self._trainable_variables]
        del state["_index"], state["_exclude_ids"]
        state["_step_cache"] = {}
        return state

    def __setstate__(self, state):
        slots = state.pop("_slots")
        self.__dict__.update(state)
        self._index = {id(v): i for i, v in enumerate(self._trainable_variables)}
        self._slots = {id(v): s for v, s in zip(self._trainable_variables, slots)}
        self._exclude_ids = {id(v) for v in self._exclude_variables}

    # -- applying gradients -------------------------------------------------------------
    def apply_gradients(self, grads_and_vars, name=None, skip_gradients_aggregation=False,
                        **kwargs):
        """Applies one step of updates, then each updated variable's `constraint` (as Keras
        3 does: `variable.assign(variable.constraint(variable))`).

        Args:
          grads_and_vars: Pairs `(gradient, variable)`, e.g.
            `zip(grads, model.trainable_variables)`. Pairs whose gradient is None are
            skipped with a warning.

        Returns:
          The `iterations` Variable (incremented by one).

        Raises:
          ValueError: If every gradient is None.
        """
        grads_and_vars = list(grads_and_vars)
        if not grads_and_vars:
            return self._iterations
        all_variables = [variable for _, variable in grads_and_vars]
        self._ensure_built(all_variables)
        grads_and_vars = _filter_empty_gradients(grads_and_vars)
        gradients = [_gradient_for(grad, variable) for grad, variable in grads_and_vars]
        variables = [variable for _, variable in grads_and_vars]
        if not skip_gradients_aggregation:
            gradients = _aggregate_across_replicas(self, gradients, variables)
        self._step_cache = {}
        try:
            gradients = self._clip_gradients(gradients)
            self._apply_weight_decay(variables)
            if self._update_takes_lr:
                for gradient, variable in zip(gradients, variables):
                    self.update_step(gradient, variable, self._learning_rate_as(variable.dtype))
            else:
                for gradient, variable in zip(gradients, variables):
                    self.update_step(gradient, variable)
        finally:
            self._step_cache = {}
        self._iterations.assign_add(1)
        for variable in variables:  # Projected back only after all updates, as in Keras 3.
            constraint = variable.constraint
            if constraint is not None:
                variable.assign(constraint(variable))
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Keras 3's form: `apply(grads, variables)`."""
        if trainable_variables is None:
            trainable_variables = self._trainable_variables
        return self.apply_gradients(zip(grads, trainable_variables))

    def _ensure_built(self, variables):
        unknown = [v for v in variables if id(v) not in self._index]
        if not unknown:
            return
        if not self.built or type(self).build is Optimizer.build:
            self.build(unknown if self.built else variables)
            return
        raise ValueError(f"The optimizer cannot recognize variable {unknown[0].name}: it was "
                         f"built for other variables. Call `optimizer.build(variables)` with "
                         f"the full list of trainable variables before the training loop.")

    def update_step(self, gradient, variable):
        """Updates `variable` from its `gradient`. Subclasses must implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  f"`update_step(gradient, variable)`.")

    def _clip_gradients(self, gradients):
        if self.clipnorm:
            return [_clip_by_norm(g, self.clipnorm) for g in gradients]
        if self.global_clipnorm:
            return _clip_by_global_norm(gradients, self.global_clipnorm)
        if self.clipvalue:
            return [tf.clip_by_value(g, -self.clipvalue, self.clipvalue) for g in gradients]
        return gradients

    # -- weight decay -------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempts variables from weight decay: those listed, and those whose name contains
        any of `var_names` (e.g. `["bias"]`)."""
        self._exclude_ids.update(id(v) for v in var_list or ())
        self._exclude_variables.extend(var_list or ())
        self._exclude_names = tuple(self._exclude_names) + tuple(var_names or ())

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        return not any(part in variable.name for part in self._exclude_names)

    def _apply_weight_decay(self, variables):
        if not self.weight_decay:
            return
        for variable in variables:
            if self._use_weight_decay(variable):
                learning_rate = self._learning_rate_as(variable.dtype)
                variable.assign_sub(variable * self.weight_decay * learning_rate)

    # -- minimize -----------------------------------------------------------------------
    def compute_gradients(self, loss, var_list, tape=None):
        """`(gradient, variable)` pairs of `loss` (a Tensor with `tape`, or a callable)."""
        if not callable(loss) and tape is None:
            raise ValueError(f"`tape` is required when a `Tensor` loss is passed. Received: "
                             f"loss={loss!r}, tape=None.")
        if tape is None:
            tape = tf.GradientTape()
        if callable(loss):
            with tape:
                if not callable(var_list):
                    tape.watch(list(var_list))
                loss = loss()
                if callable(var_list):
                    var_list = var_list()
        var_list = list(var_list)
        gradients = tape.gradient(loss, var_list)
        return list(zip(gradients, var_list))

    def minimize(self, loss, var_list, tape=None):
        """Computes the gradients of `loss` and applies them: one step.

        Args:
          loss: A zero-argument callable returning the loss, or a loss Tensor computed
            under `tape`.
          var_list: The variables to update (or a callable returning them).
          tape: The `GradientTape` that recorded a Tensor `loss`.

        >>> import numpyflow as tf
        >>> x = tf.Variable(3.)
        >>> opt = tf.keras.optimizers.SGD(learning_rate=0.25)
        >>> _ = opt.minimize(lambda: x * x, [x])  # x -= 0.25 * 2x
        >>> float(x)
        1.5
        """
        return self.apply_gradients(self.compute_gradients(loss, var_list, tape))

    # -- configuration ------------------------------------------------------------------
    def _serialize_hyperparameter(self, value):
        if isinstance(value, schedules.LearningRateSchedule):
            return schedules.serialize(value)
        if isinstance(value, tf.Tensor):
            return float(value.numpy())
        return value

    def get_config(self):
        config = {
            "name": self.name,
            "learning_rate": self._serialize_hyperparameter(self._learning_rate),
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
        }
        if self._legacy_decay:
            config["decay"] = self._legacy_decay
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def _aggregate_across_replicas(optimizer, gradients, variables):
    """The gradients summed over the replicas of the current strategy (one all-reduce per
    dtype), as `apply_gradients` does in a replica context of `tf.distribute`.

    The first time an optimizer applies gradients under a strategy of several replicas,
    the variables it updates take the chief's values first (models that `fit` trains are
    synchronized before their first step already).
    """
    context = distribute_lib.get_replica_context()
    if context is None:
        strategy = distribute_lib.get_strategy()
        if strategy.num_replicas_in_sync > 1:
            raise RuntimeError(f"apply_gradients was called in the cross-replica context of "
                               f"{type(strategy).__name__} with "
                               f"{strategy.num_replicas_in_sync} replicas: call it inside "
                               f"`strategy.run(step_fn)`, so that the gradients are summed "
                               f"over the replicas.")
        return gradients
    extended = context.strategy.extended
    if context.num_replicas_in_sync == 1:
        return gradients
    if optimizer not in extended._synchronized:
        extended._broadcast_variables(variables, "the variables the optimizer updates")
        extended._synchronized.add(optimizer)
    return extended._all_reduce(gradients, "sum")


def _computed_each_step(learning_rate):
    """Whether a learning rate is computed each step: a `LearningRateSchedule` (callable, like
    every schedule) or another callable."""
    return callable(learning_rate) and not isinstance(learning_rate, tf.Tensor)


def _filter_empty_gradients(grads_and_vars):
    """Drops pairs whose gradient is None, warning about them as Keras does."""
    kept = [(g, v) for g, v in grads_and_vars if g is not None]
    if not kept:
        names = [v.name for _, v in grads_and_vars]
        raise ValueError(f"No gradients provided for any variable: {names}. Every gradient "
                         f"is None: the loss does not depend on these variables (was it "
                         f"computed inside the GradientTape's `with` block?).")
    if len(kept) < len(grads_and_vars):
        missing = [v.name for g, v in grads_and_vars if g is None]
        _log.warning("Gradients do not exist for variables %s when minimizing the loss. If "
                     "you're using `model.compile()`, did you forget to provide a `loss` "
                     "argument?", missing)
    return kept


def _gradient_for(gradient, variable):
    """`gradient` as a Tensor of `variable`'s dtype, checked against its shape."""
    if not isinstance(gradient, tf.Tensor):
        gradient = tf.convert_to_tensor(gradient)
    if gradient.dtype != variable.dtype:
        gradient = tf.cast(gradient, variable.dtype)
    if tuple(gradient.shape) != tuple(variable.shape):
        raise ValueError(f"Gradient of shape {tuple(gradient.shape)} does not match variable "
                         f"'{variable.name}' of shape {tuple(variable.shape)}.")
    return gradient


def _clip_by_norm(gradient, clip_norm):
    """Rescales `gradient` so that its L2 norm is at most `clip_norm`."""
    norm = tf.sqrt(tf.reduce_sum(tf.square(gradient)))
    return gradient * (clip_norm / tf.maximum(norm, clip_norm))


def _clip_by_global_norm(gradients, clip_norm):
    """Rescales all `gradients` by one factor so that their joint L2 norm is <= `clip_norm`."""
    squared = [tf.cast(tf.reduce_sum(tf.square(g)), tf.float32) for g in gradients]
    global_norm = tf.sqrt(tf.reduce_sum(tf.stack(squared)))
    # Adding (norm - norm) is 0 for a finite norm and NaN otherwise: like TF, a non-finite
    # norm turns every gradient into NaN rather than silently into zeros.
    scale = clip_norm / tf.maximum(global_norm, clip_norm) + (global_norm - global_norm)
    return [g * tf.cast(scale, g.dtype) for g in gradients]


def _learning_rate_number(value, error_type):
    """`value` as a float learning rate; `error_type` (Keras's) with its message otherwise."""
    if isinstance(value, (str, bytes, bool)):
        number = None
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
    if number is None:
        raise error_type("Argument `learning_rate` should be float, or an instance of "
                         "LearningRateSchedule, or a callable (that takes in the current "
                         "iteration value and returns the corresponding learning rate value). "
                         f"Received instead: learning_rate={value}")
    return number
