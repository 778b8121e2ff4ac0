"""The recurrent benchmark row (issue #14): an LSTM(128) classifier over Fashion-MNIST rows.

Each image is a sequence of 28 rows of 28 pixels: LSTM(128) -> Dense(10, softmax), Adam
(default settings), batch 32, one epoch. Keras `fit(verbose=0)` for numpyflow and TF (the
same code, only the module differs) and the idiomatic `nn.LSTM` loop for PyTorch (logits into
CrossEntropyLoss, the softmax inside the loss). `run.py` times them side by side as the
`lstm32` workload; each child warms up on a few batches first (for Keras, that traces and
compiles the train step), then times full epochs.
"""

UNITS = 128
BATCH_SIZE = 32


def keras_row_lstm(tf, **compile_args):
    """The Keras model, compiled (with `compile_args`, e.g. jit_compile=True for TF's XLA
    column): the same code for numpyflow and TensorFlow."""
    layers = tf.keras.layers
    model = tf.keras.Sequential([tf.keras.Input((28, 28)), layers.LSTM(UNITS),
                                 layers.Dense(10, activation="softmax")])
    model.compile(optimizer=tf.keras.optimizers.Adam(),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], **compile_args)
    return model


def torch_row_lstm():
    """PyTorch: nn.LSTM(28, 128, batch_first=True) -> Linear(128, 10), and Adam; `children.py`'s
    `time_torch_epochs` trains it (batch 32, logits into CrossEntropyLoss)."""
    import torch
    from torch import nn
    torch.manual_seed(0)

    class RowLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(28, UNITS, batch_first=True)
            self.head = nn.Linear(UNITS, 10)

        def forward(self, inputs):
            _, (h, _) = self.lstm(inputs)
            return self.head(h[-1])

    model = RowLSTM()
    return model, torch.optim.Adam(model.parameters())
