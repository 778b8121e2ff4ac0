"""The sparse cross-entropy's flat label positions hold for logits of any memory layout."""

import numpy as np

from numpyflow.framework.primitive import _REGISTRY

forward = _REGISTRY["SparseSoftmaxCrossEntropyWithLogits"].forward
backprop = _REGISTRY["SparseSoftmaxCrossEntropyBackprop"].forward


def test_fortran_ordered_logits_give_the_same_loss_and_gradient():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((6, 4)).astype(np.float32)
    labels = np.array([3, 0, 2, 1, 1, 0], np.int64)
    transposed_view = np.ascontiguousarray(logits.T).T  # Same values, Fortran order.
    assert not transposed_view.flags.c_contiguous
    loss, probabilities = forward(logits, labels)
    loss_f, probabilities_f = forward(transposed_view, labels)
    np.testing.assert_array_equal(loss_f, loss)
    np.testing.assert_array_equal(probabilities_f, probabilities)
    dy = np.linspace(0.5, 1.5, 6, dtype=np.float32)
    expected = dy[:, None] * probabilities - dy[:, None] * np.eye(4, dtype=np.float32)[labels]
    for saved in (probabilities, probabilities_f, np.asfortranarray(probabilities)):
        np.testing.assert_allclose(backprop(dy, saved, labels), expected, rtol=1e-6, atol=1e-7)


def test_an_empty_batch_and_a_single_example():
    loss, probabilities = forward(np.zeros((0, 3), np.float32), np.zeros(0, np.int32))
    assert loss.shape == (0,) and probabilities.shape == (0, 3)
    assert backprop(np.zeros(0, np.float32), probabilities, np.zeros(0, np.int32)).shape == (0, 3)
    loss, probabilities = forward(np.array([[0., 0.]], np.float32), np.array([1], np.uint8))
    np.testing.assert_allclose(loss, [np.log(2.)], rtol=1e-6)
    np.testing.assert_allclose(backprop(np.ones(1, np.float32), probabilities,
                                        np.array([1], np.uint8)), [[0.5, -0.5]])
