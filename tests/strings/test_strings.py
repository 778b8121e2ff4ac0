"""tf.strings beyond the TF fixture: errors, hashing values, ragged input, tf.function."""

import subprocess
import sys

import numpy as np
import pytest

import numpyflow as tf
from tests.strings.string_cases import HASH_INPUTS

# TF 2.21's values (also in tests/fixtures/strings/tf221_strings.json).
TF_FAST_1000 = [263, 939, 822, 296, 151, 11, 25, 783, 436, 555, 796, 280, 735, 728, 619, 719,
                578, 280, 587, 675]
TF_STRONG_1000_KEY_1_2 = [435, 646, 184, 622, 274, 446, 591, 286, 801, 268, 406, 405, 823, 730,
                          481, 463, 750, 331, 724, 89]


def test_hash_buckets_match_tf():
    assert len(HASH_INPUTS) == 20 and "" in HASH_INPUTS and "日本語" in HASH_INPUTS
    fast = tf.strings.to_hash_bucket_fast(HASH_INPUTS, 1000)
    assert fast.dtype == tf.int64 and fast.numpy().tolist() == TF_FAST_1000
    strong = tf.strings.to_hash_bucket_strong(HASH_INPUTS, 1000, key=[1, 2])
    assert strong.dtype == tf.int64 and strong.numpy().tolist() == TF_STRONG_1000_KEY_1_2
    with pytest.raises(ValueError, match="num_buckets"):
        tf.strings.to_hash_bucket_fast(["a"], 0)
    with pytest.raises(ValueError, match="key"):
        tf.strings.to_hash_bucket_strong(["a"], 10, key=[1])


def test_hashing_without_the_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "farmhash", None)
    with pytest.raises(ImportError, match=r"pip install numpyflow\[hashing\]"):
        tf.strings.to_hash_bucket_fast(["a"], 10)
    monkeypatch.setitem(sys.modules, "siphash24", None)
    with pytest.raises(ImportError, match=r"pip install numpyflow\[hashing\]"):
        tf.strings.to_hash_bucket_strong(["a"], 10, key=[1, 2])


def test_import_numpyflow_loads_no_hashing_library():
    code = ("import sys, numpyflow as tf; tf.strings.lower('A'); tf.ragged.constant([[1]]); "
            "print(sorted(m for m in sys.modules if m in ('farmhash', 'siphash24')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_errors_name_the_op_and_value():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"StringToNumberOp could not correctly convert string: x1 "
                             r"\[Op:StringToNumber\]"):
        tf.strings.to_number(["1", "x1"])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"pos 4 out of range.*\[Op:Substr\]"):
        tf.strings.substr(["abc"], 4, 1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="lower as input #0.*expected to "
                       "be a string tensor but is a int32 tensor"):
        tf.strings.lower(tf.constant([1]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="could not correctly convert "
                       "string: 1_0"):
        tf.strings.to_number(["1_0"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="precision"):
        tf.strings.as_string([1], precision=2)
    with pytest.raises(ValueError, match="unit"):
        tf.strings.length(["a"], unit="CHAR")
    with pytest.raises(TypeError, match="out_type"):
        tf.strings.to_number(["1"], out_type=tf.uint8)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid pattern"):
        tf.strings.regex_replace(["a"], "(", "")
    with pytest.raises(tf.errors.InvalidArgumentError, match="rewrite"):
        tf.strings.regex_replace(["a"], "a", r"\x")
    with pytest.raises(tf.errors.InvalidArgumentError, match="Fill argument not supported"):
        tf.strings.as_string([1], fill="x")
    with pytest.raises(ValueError, match="placeholders"):
        tf.strings.format("{} {}", [tf.constant(1)])


def test_regex_translation_from_re2():
    assert tf.strings.regex_replace("a-b_c", "[[:punct:]]", "").numpy() == b"abc"
    assert tf.strings.regex_replace("ab", r"b\z", "!").numpy() == b"a!"
    assert tf.strings.regex_replace("x", "x", r"\\").numpy() == b"\\"
    # Invalid UTF-8 passes through unchanged where nothing matches.
    assert tf.strings.regex_replace(b"\xffa", "a", "b").numpy() == b"\xffb"


def test_unicode_split_errors():
    bad = b"a\xffb"
    assert tf.strings.unicode_split(bad, "UTF-8").numpy().tolist() == [b"a", "\ufffd".encode(),
                                                                         b"b"]
    assert tf.strings.unicode_split(bad, "UTF-8", errors="ignore").numpy().tolist() == [b"a",
                                                                                         b"b"]
    assert tf.strings.unicode_split(bad, "UTF-8", replacement_char=63).numpy().tolist() == \
        [b"a", b"?", b"b"]
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.strings.unicode_split(bad, "UTF-8", errors="strict")
    with pytest.raises(ValueError, match="input_encoding"):
        tf.strings.unicode_split("a", "latin-1")


def test_split_on_ragged_and_rank_two_input():
    rt = tf.strings.split(tf.constant([["a b", "c"], ["d", ""]]))
    assert rt.shape.as_list() == [2, 2, None] and rt.ragged_rank == 2
    assert rt.to_list() == [[[b"a", b"b"], [b"c"]], [[b"d"], []]]
    assert tf.strings.split(["a b"]).to_tensor().numpy().tolist() == [[b"a", b"b"]]


def test_ngrams_of_rank_two_ragged_rows():
    grams = tf.strings.ngrams(tf.constant([["a", "b", "c"], ["d", "e", "f"]]), (1, 3))
    assert grams.numpy().tolist() == [[b"a", b"b", b"c", b"a b c"], [b"d", b"e", b"f", b"d e f"]]
    ragged = tf.strings.ngrams(tf.ragged.constant([[["a", "b"], ["c"]]]), 2)
    assert ragged.to_list() == [[[b"a b"], []]]


def test_string_ops_are_traced_by_tf_function():
    @tf.function
    def clean(x):
        return tf.strings.length(tf.strings.lower(x)), tf.strings.regex_replace(x, "[A-Z]", "#")

    for words in (["AB", "c"], ["xyz", "Q"], ["Hello", ""]):
        lengths, replaced = clean(tf.constant(words))
        assert lengths.numpy().tolist() == [len(w) for w in words]
        assert replaced.numpy().tolist() == [
            "".join("#" if ch.isupper() else ch for ch in w).encode() for w in words]
    source = "".join(clean.plan_sources())
    assert "StringLower" in source and "StaticRegexReplace" in source

    @tf.function
    def padded(x):
        return tf.strings.split(x).to_tensor()

    # The same input twice must not freeze the split into a plan for the third call.
    for rows in (["a b", "c"], ["a b", "c"], ["x y z", "q"], ["1", "2 3"]):
        expected = [r.split() for r in rows]
        width = max(len(r) for r in expected)
        assert padded(tf.constant(rows)).numpy().tolist() == [
            [w.encode() for w in r] + [b""] * (width - len(r)) for r in expected]


def test_ragged_results_keep_tf_function_eager():
    @tf.function
    def grams(x):
        return tf.strings.ngrams(x, 2), tf.strings.format("{}", x)

    for words in (["a", "b", "c"], ["a", "b", "c"], ["x", "y", "z"]):
        pairs, text = grams(tf.constant(words))
        assert pairs.numpy().tolist() == [f"{a} {b}".encode() for a, b in zip(words, words[1:])]
        assert text.numpy() == ("[" + " ".join(f'"{w}"' for w in words) + "]").encode()

    @tf.function
    def rows(values):
        return tf.RaggedTensor.from_row_lengths(values, [2, 1]).to_tensor()

    for values in ([1, 2, 3], [1, 2, 3], [4, 5, 6]):
        assert rows(tf.constant(values)).numpy().tolist() == [values[:2], [values[2], 0]]


def test_dataset_map_with_string_ops():
    ds = tf.data.Dataset.from_tensor_slices(["A b", "C"]).map(tf.strings.lower)
    assert list(ds.as_numpy_iterator()) == [b"a b", b"c"]
    split = tf.data.Dataset.from_tensor_slices(["A b", "C d e"]).map(tf.strings.split)
    assert [x.tolist() for x in split.as_numpy_iterator()] == [[b"A", b"b"], [b"C", b"d", b"e"]]


def test_as_string_and_format_details():
    assert tf.strings.as_string(np.array([0.5], np.float32), precision=3).numpy().tolist() == \
        [b"0.500"]
    assert tf.strings.format("{}", tf.constant([[1, 2], [3, 4]])).numpy() == b"[[1 2]\n [3 4]]"
    assert tf.strings.format("{}", tf.range(10), summarize=-1).numpy() == \
        b"[0 1 2 3 4 5 6 7 8 9]"
    assert tf.strings.format("{}", tf.constant([0.1, 1.0])).numpy() == b"[0.1 1]"


def test_empty_inputs_match_tf():
    # Values from TF 2.21.
    empty = tf.reshape(tf.constant([], dtype=tf.string), [2, 0])
    assert tf.strings.reduce_join(tf.constant([], dtype=tf.string)).numpy() == b""
    assert tf.strings.reduce_join(empty, axis=1).numpy().tolist() == [b"", b""]
    assert tf.strings.reduce_join(tf.reshape(empty, [0, 2]), axis=1).shape.as_list() == [0]
    kept = tf.strings.reduce_join(empty, axis=0, keepdims=True)
    assert kept.shape.as_list() == [1, 0]
    grams = tf.strings.ngrams(empty, 2)
    assert grams.shape.as_list() == [2, 0] and grams.numpy().tolist() == [[], []]
    assert tf.strings.join([]).numpy() == b""


def test_substr_negative_len_takes_the_rest_as_tf():
    # TF 2.21 reads a negative byte `len` as "to the end of the string".
    assert tf.strings.substr(["hello"], 1, -1).numpy().tolist() == [b"ello"]
    assert tf.strings.substr(["hello"], -2, -1).numpy().tolist() == [b"lo"]
    assert tf.strings.substr(["héllo"], 1, -1, unit="UTF8_CHAR").numpy().tolist() == [b""]


def test_regex_errors_name_the_op_that_failed():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[Op:StaticRegexFullMatch\]"):
        tf.strings.regex_full_match(["a"], "(")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[Op:StaticRegexReplace\]"):
        tf.strings.regex_replace(["a"], "(", "")


def test_as_string_of_strings_pads_to_width_as_tf():
    # TF 2.21: strings pass through, right-aligned with spaces (even with fill="0").
    assert tf.strings.as_string(["ab"]).numpy().tolist() == [b"ab"]
    assert tf.strings.as_string(["ab"], width=4, fill="0").numpy().tolist() == [b"  ab"]
    assert tf.strings.as_string([True], width=6).numpy().tolist() == [b"true"]


def test_edge_cases_match_tf():
    # Values from TF 2.21.
    # padding_width above ngram_width - 1 is cut to ngram_width - 1.
    assert tf.strings.ngrams(["a", "b"], 2, pad_values="#", padding_width=3).numpy().tolist() \
        == [b"# a", b"a b", b"b #"]
    # Only ASCII digits are numbers.
    with pytest.raises(tf.errors.InvalidArgumentError, match="could not correctly convert"):
        tf.strings.to_number(["\u0661"], tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="could not correctly convert"):
        tf.strings.to_number(["\u0661.5"], tf.float32)
    # RE2's `$` is the end of the text only (Python's also matches before a final newline).
    assert tf.strings.regex_replace(["a\n"], "a$", "X").numpy().tolist() == [b"a\n"]
    assert tf.strings.regex_replace(["a$"], r"a\$", "X").numpy().tolist() == [b"X"]
    assert tf.strings.regex_replace(["a$"], "a[$]", "X").numpy().tolist() == [b"X"]
    assert tf.strings.regex_full_match(["ab"], "ab$").numpy().tolist() == [True]
    assert tf.strings.regex_replace(["a\nb"], "(?m)a$", "X").numpy().tolist() == [b"X\nb"]
    # Invalid UTF-8 becomes U+FFFD under encoding="utf-8".
    assert tf.strings.lower([b"\xffA"], encoding="utf-8").numpy().tolist() == \
        [b"\xef\xbf\xbda"]
    assert tf.strings.upper([b"\xffa"], encoding="utf-8").numpy().tolist() == \
        [b"\xef\xbf\xbdA"]
    # printf ignores the 0 flag for inf and nan.
    assert tf.strings.as_string([np.inf, -np.inf, 1.5], width=6, precision=1,
                                fill="0").numpy().tolist() == [b"   inf", b"  -inf", b"0001.5"]


def test_regex_cache_is_bounded():
    from numpyflow.ops import string_ops
    for i in range(string_ops._CACHE_SIZE + 10):
        tf.strings.regex_full_match(["a"], f"a{{0,{i}}}")
    assert len(string_ops._cache) <= string_ops._CACHE_SIZE
