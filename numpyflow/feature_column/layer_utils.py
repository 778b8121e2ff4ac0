"""What the layers built on feature columns share: checking the columns, creating their
weights in a layer, and computing the dense output."""

import numpyflow as tf
from numpyflow.feature_column.base import (
    CategoricalColumn, DenseColumn, FeatureCache, FeatureColumn)


def _as_list(feature_columns):
    if isinstance(feature_columns, FeatureColumn):
        return [feature_columns]
    if isinstance(feature_columns, dict):
        raise ValueError("Expected feature_columns to be iterable, found dict.")
    return list(feature_columns)


def check_columns(feature_columns, kinds, hint=""):
    """The columns as a list sorted by name, each of one of `kinds`, names unique."""
    columns = _as_list(feature_columns)
    if not columns:
        raise ValueError("feature_columns must not be empty.")
    for column in columns:
        if not isinstance(column, kinds):
            expected = " or ".join(k.__name__ for k in kinds)
            raise ValueError(f"Items of feature_columns must be a {expected}.{hint} "
                             f"Given: {column}")
    columns = sorted(columns, key=lambda c: c.name)
    for first, second in zip(columns, columns[1:]):
        if first.name == second.name:
            raise ValueError(f"Duplicate feature column name found for columns: {first} and "
                             f"{second}. This usually means that these columns refer to same "
                             f"base feature. Either one must be discarded or a duplicated but "
                             f"renamed item must be inserted in features dict.")
    return columns


def dense_columns(feature_columns):
    """DenseFeatures' columns: dense ones only, sorted by name."""
    return check_columns(feature_columns, (DenseColumn,),
                         " You can wrap a categorical column with an embedding_column or "
                         "indicator_column.")


def make_state(layer, columns):
    """Creates each column's weights as weights of `layer`: {column name: {name: Variable}}."""
    state = {}
    for column in columns:
        def add_weight(name, shape, initializer, trainable, scoped=True, column=column):
            full_name = f"{column.name}/{name}" if scoped else name
            variable = layer.add_weight(name=full_name, shape=shape, initializer=initializer,
                                        trainable=trainable)
            return variable
        state[column.name] = column._make_state(add_weight)
        for variable in state[column.name].values():  # Shared tables made by another layer.
            if not any(variable is w for w in layer._tracked_weights):
                layer._tracked_weights.append(variable)
    return state


def dense_output(columns, features, state, cols_to_output_tensors=None, layer_name="layer"):
    """The concatenated `[batch, sum of num_elements]` float32 value of dense `columns`."""
    if not isinstance(features, dict):
        raise ValueError(f"We expected a dictionary here. Instead we got: {features!r} "
                         f"(layer '{layer_name}').")
    cache = FeatureCache(features)
    outputs = []
    for column in columns:
        value = column.get_dense_tensor(cache, state.get(column.name, {}))
        if cols_to_output_tensors is not None:
            cols_to_output_tensors[column] = value
        outputs.append(value)
    check_batch_sizes(columns, outputs)
    return outputs[0] if len(outputs) == 1 else tf.concat(outputs, axis=1)


def check_batch_sizes(columns, outputs):
    """Raises unless every column's output has the same batch size (first dimension)."""
    sizes = {c.name: o.shape[0] for c, o in zip(columns, outputs)}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"Batch size (first dimension) of each feature must be same. "
                         f"Batch size of columns ({', '.join(sizes)}): "
                         f"({', '.join(str(s) for s in sizes.values())})")


def dense_output_shape(columns, input_shape):
    """`(batch, total width)` for a dict of input shapes (KerasTensors' shapes), or for
    the one shape that every feature has."""
    batch = None
    shapes = input_shape.values() if isinstance(input_shape, dict) else [input_shape]
    for shape in shapes:
        shape = tuple(shape) if shape is not None else ()
        if shape and shape[0] is not None:
            batch = shape[0]
            break
    return tf.TensorShape((batch, sum(c.num_elements for c in columns)))


def categorical_or_dense(columns):
    return check_columns(columns, (CategoricalColumn, DenseColumn))
