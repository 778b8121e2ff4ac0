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


def keras_row_lstm(tf):
    """The Keras model: the same code for numpyflow and TensorFlow."""
    layers = tf.keras.layers
    model = tf.keras.Sequential([tf.keras.Input((28, 28)), layers.LSTM(UNITS),
                                 layers.Dense(10, activation="softmax")])
    model.compile(optimizer=tf.keras.optimizers.Adam(),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def torch_row_lstm_epochs(x, y, repeats, time_call, warmup_batches):
    """PyTorch: nn.LSTM(28, 128, batch_first=True) -> Linear(128, 10), Adam, batch 32."""
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
    optimizer = torch.optim.Adam(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    inputs, labels = torch.from_numpy(x), torch.from_numpy(y)

    def epoch(inputs, labels):
        model.train()
        order = torch.randperm(len(inputs))
        for start in range(0, len(inputs), BATCH_SIZE):
            index = order[start:start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = loss_fn(model(inputs[index]), labels[index])
            loss.backward()
            optimizer.step()

    warm = min(len(x), warmup_batches * BATCH_SIZE)
    info = {"warmup_s": time_call(lambda: epoch(inputs[:warm], labels[:warm])),
            "threads": torch.get_num_threads()}
    samples = [time_call(lambda: epoch(inputs, labels)) for _ in range(repeats)]
    return samples, info
