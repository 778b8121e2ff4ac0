"""Review of TensorShape(None) (unknown rank) against TF 2.21: membership tests raise as
iteration does (not a silent False that reads as "fully defined"), slices with known
bounds have a known rank, and the rank checks TF code calls on shapes (`with_rank`,
`assert_has_rank`, ...) answer for known and unknown ranks as TF's do."""

import pickle

import pytest

import numpyflow as tf

TensorShape = tf.TensorShape
UNKNOWN = TensorShape(None)


@pytest.mark.parametrize("item", [None, 1])
def test_membership_in_an_unknown_shape_raises_as_tf(item):
    # `None in shape` is how code asks "is any dim unknown?": False would be a wrong answer.
    with pytest.raises(ValueError, match="unknown rank"):
        item in UNKNOWN  # noqa: B015
    assert (None in TensorShape([2, None])) and (None not in TensorShape([2, 3]))


@pytest.mark.parametrize("key, expected", [
    (slice(None, 2), TensorShape([None, None])), (slice(1, 3), TensorShape([None, None])),
    (slice(2, 1), TensorShape([])), (slice(0, 0), TensorShape([])),
    (slice(1, None), UNKNOWN), (slice(-1, None), UNKNOWN), (slice(None, -1), UNKNOWN),
    (slice(-3, -1), UNKNOWN)])
def test_slices_of_an_unknown_shape_as_tf(key, expected):
    result = UNKNOWN[key]
    assert result == expected and result.rank == expected.rank


def test_a_slice_with_a_step_of_an_unknown_shape_is_refused_as_tf():
    with pytest.raises(ValueError, match="[Ss]tep"):
        UNKNOWN[::2]


def test_with_rank_family_on_unknown_and_known_shapes():
    assert UNKNOWN.with_rank(2) == TensorShape([None, None])
    assert UNKNOWN.with_rank_at_least(2) is UNKNOWN and UNKNOWN.with_rank_at_most(2) is UNKNOWN
    known = TensorShape([1, None])
    assert known.with_rank(2) == known and known.with_rank_at_least(1) == known
    assert known.with_rank_at_most(2) == known
    with pytest.raises(ValueError, match=r"must have rank 3"):
        known.with_rank(3)
    with pytest.raises(ValueError, match=r"must have rank at least 3"):
        known.with_rank_at_least(3)
    with pytest.raises(ValueError, match=r"must have rank at most 1"):
        known.with_rank_at_most(1)


def test_assertions_on_ranks_and_definedness():
    UNKNOWN.assert_has_rank(2)  # An unknown rank may be any rank.
    TensorShape([1]).assert_same_rank(UNKNOWN)
    TensorShape([1, 2]).assert_is_fully_defined()
    with pytest.raises(ValueError, match=r"must have rank 2"):
        TensorShape([1]).assert_has_rank(2)
    with pytest.raises(ValueError, match=r"same rank"):
        TensorShape([1]).assert_same_rank([1, 2])
    for shape in (TensorShape([1, None]), UNKNOWN):
        with pytest.raises(ValueError, match=r"is not fully defined"):
            shape.assert_is_fully_defined()


def test_the_unknown_shape_survives_pickling_and_slicing_identity():
    assert pickle.loads(pickle.dumps(UNKNOWN[1:])) is UNKNOWN
