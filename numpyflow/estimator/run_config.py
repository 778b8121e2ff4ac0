"""`tf.estimator.RunConfig`: where and how often an Estimator saves, logs and summarizes."""

_UNSUPPORTED = ("session_config", "train_distribute", "device_fn", "protocol",
                "eval_distribute", "experimental_distribute", "experimental_max_worker_delay_secs",
                "session_creation_timeout_secs", "checkpoint_save_graph_def")


class RunConfig:
    """The run settings of an Estimator (TF 2.15's defaults).

    Args:
      model_dir: Where checkpoints and event files go (see `Estimator`).
      tf_random_seed: Seed set with `tf.random.set_seed` before each `model_fn` build.
      save_summary_steps: Write the loss summary every this many steps (100).
      save_checkpoints_steps: Save a checkpoint every this many steps; exclusive with
        `save_checkpoints_secs`.
      save_checkpoints_secs: Save a checkpoint every this many seconds (600 when neither
        is given).
      keep_checkpoint_max: How many checkpoints to keep (5; None or 0 keeps all).
      keep_checkpoint_every_n_hours: Also keep one checkpoint per this many hours.
      log_step_count_steps: Log the loss and steps/sec every this many steps (100).

    >>> import numpyflow as tf
    >>> config = tf.estimator.RunConfig(save_checkpoints_steps=50)
    >>> config.save_checkpoints_steps, config.save_checkpoints_secs, config.keep_checkpoint_max
    (50, None, 5)
    """

    def __init__(self, model_dir=None, tf_random_seed=None, save_summary_steps=100,
                 save_checkpoints_steps=None, save_checkpoints_secs=None, session_config=None,
                 keep_checkpoint_max=5, keep_checkpoint_every_n_hours=10000,
                 log_step_count_steps=100, train_distribute=None, device_fn=None,
                 protocol=None, eval_distribute=None, experimental_distribute=None,
                 experimental_max_worker_delay_secs=None, session_creation_timeout_secs=7200,
                 checkpoint_save_graph_def=True):
        given = dict(session_config=session_config, train_distribute=train_distribute,
                     device_fn=device_fn, protocol=protocol, eval_distribute=eval_distribute,
                     experimental_distribute=experimental_distribute,
                     experimental_max_worker_delay_secs=experimental_max_worker_delay_secs)
        for name, value in given.items():
            if value is not None:
                raise NotImplementedError(f"tf.estimator.RunConfig: `{name}` is not supported "
                                          f"in numpyflow; received {name}={value!r}.")
        if save_checkpoints_steps is not None and save_checkpoints_secs is not None:
            raise ValueError("Can not provide both save_checkpoints_secs and "
                             "save_checkpoints_steps.")
        if save_checkpoints_steps is None and save_checkpoints_secs is None:
            save_checkpoints_secs = 600
        for name, value in (("save_summary_steps", save_summary_steps),
                            ("save_checkpoints_steps", save_checkpoints_steps),
                            ("save_checkpoints_secs", save_checkpoints_secs),
                            ("log_step_count_steps", log_step_count_steps),
                            ("keep_checkpoint_max", keep_checkpoint_max)):
            if value is not None and value < 0:
                raise ValueError(f"tf.estimator.RunConfig: {name} must be >= 0; received "
                                 f"{name}={value}.")
        self._model_dir = None if model_dir is None else str(model_dir)
        self._tf_random_seed = tf_random_seed
        self._save_summary_steps = save_summary_steps
        self._save_checkpoints_steps = save_checkpoints_steps
        self._save_checkpoints_secs = save_checkpoints_secs
        self._keep_checkpoint_max = keep_checkpoint_max
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._log_step_count_steps = log_step_count_steps
        self._session_creation_timeout_secs = session_creation_timeout_secs
        self._checkpoint_save_graph_def = checkpoint_save_graph_def

    model_dir = property(lambda self: self._model_dir)
    tf_random_seed = property(lambda self: self._tf_random_seed)
    save_summary_steps = property(lambda self: self._save_summary_steps)
    save_checkpoints_steps = property(lambda self: self._save_checkpoints_steps)
    save_checkpoints_secs = property(lambda self: self._save_checkpoints_secs)
    keep_checkpoint_max = property(lambda self: self._keep_checkpoint_max)
    keep_checkpoint_every_n_hours = property(lambda self: self._keep_checkpoint_every_n_hours)
    log_step_count_steps = property(lambda self: self._log_step_count_steps)
    is_chief = property(lambda self: True)
    num_worker_replicas = property(lambda self: 1)
    num_ps_replicas = property(lambda self: 0)
    task_type = property(lambda self: "worker")
    task_id = property(lambda self: 0)

    def replace(self, **kwargs):
        """A copy with the given settings changed (TF's `RunConfig.replace`)."""
        settings = self._settings()
        unknown = sorted(set(kwargs) - set(settings))
        if unknown:
            raise ValueError(f"RunConfig.replace: unknown or unsupported properties {unknown}.")
        settings.update(kwargs)
        if "save_checkpoints_steps" in kwargs and "save_checkpoints_secs" not in kwargs:
            settings["save_checkpoints_secs"] = None
        if "save_checkpoints_secs" in kwargs and "save_checkpoints_steps" not in kwargs:
            settings["save_checkpoints_steps"] = None
        return RunConfig(**settings)

    def _settings(self):
        return dict(model_dir=self._model_dir, tf_random_seed=self._tf_random_seed,
                    save_summary_steps=self._save_summary_steps,
                    save_checkpoints_steps=self._save_checkpoints_steps,
                    save_checkpoints_secs=self._save_checkpoints_secs,
                    keep_checkpoint_max=self._keep_checkpoint_max,
                    keep_checkpoint_every_n_hours=self._keep_checkpoint_every_n_hours,
                    log_step_count_steps=self._log_step_count_steps)

    def __repr__(self):
        settings = ", ".join(f"'_{k}': {v!r}" for k, v in self._settings().items())
        return "{" + settings + "}"
