"""`tf.einsum`: tensor contractions written as an equation, with their gradient.

The equation is first made explicit (`"ij,jk"` -> `"ij,jk->ik"`, each `...` replaced by
letters of its own), so that the forward (`xp.einsum`) and the gradient rule read one
form. The gradient of operand `i` is itself an einsum: of the upstream gradient with the
other operands, producing operand `i`'s letters; letters only operand `i` has (summed
away in the forward) are broadcast back, and a letter repeated in operand `i` (a
diagonal, `"ii->i"`) puts the gradient on that diagonal.

    >>> import numpyflow as tf
    >>> tf.einsum("ij,jk->ik", [[1., 2.]], [[3.], [4.]]).numpy()
    array([[11.]], dtype=float32)
"""

import string

from numpyflow.backend import xp
from numpyflow.backend.quiet import quiet
from numpyflow.framework.errors import invalid_argument
from numpyflow.framework.primitive import Primitive
from numpyflow.ops import array_ops, creation_ops, reduce_ops
from numpyflow.ops.array_ops import _matching_tensors

_LETTERS = set(string.ascii_letters)


def _einsum_forward(*arrays, equation):
    return xp.einsum(equation, *arrays, optimize=len(arrays) > 1)


def _einsum_grad(node, dy):
    inputs_subscripts, output_subscripts = _split(node.attrs["equation"])
    operands = node.inputs
    grads = []
    for index, operand in enumerate(operands):
        if node.needs is not None and not node.needs[index]:
            grads.append(None)
            continue
        grads.append(_operand_grad(index, operand, operands, inputs_subscripts,
                                   output_subscripts, dy))
    return tuple(grads)


def _operand_grad(index, operand, operands, inputs_subscripts, output_subscripts, dy):
    """d(sum(dy * einsum(...)))/d(operand): an einsum of `dy` and the other operands."""
    target = inputs_subscripts[index]
    others = [output_subscripts] + [s for i, s in enumerate(inputs_subscripts) if i != index]
    other_tensors = [dy] + [t for i, t in enumerate(operands) if i != index]
    available = set("".join(others))
    unique = "".join(dict.fromkeys(target))
    kept = "".join(letter for letter in unique if letter in available)
    grad = Einsum(*other_tensors, equation=",".join(others) + "->" + kept)
    # Letters summed away in the forward: the gradient is the same along them.
    shape = operand._value.shape
    sizes = {letter: shape[target.index(letter)] for letter in unique}
    if len(kept) < len(unique):
        for position, letter in enumerate(unique):
            if letter not in available:
                grad = array_ops.expand_dims(grad, position)
        grad = array_ops.broadcast_to(grad, [sizes[letter] for letter in unique])
    # A letter repeated in the operand: the gradient lies on the diagonal.
    if len(unique) < len(target):
        grad = _onto_diagonals(grad, unique, target, sizes)
    # Ellipsis dims of size 1 in this operand that broadcast against the others.
    grad_shape = tuple(grad._value.shape)
    summed = tuple(axis for axis, (g, s) in enumerate(zip(grad_shape, shape)) if s == 1 != g)
    if summed:
        grad = reduce_ops.reduce_sum(grad, axis=summed, keepdims=True)
    if tuple(grad._value.shape) != tuple(shape):
        grad = array_ops.broadcast_to(grad, list(shape))
    return grad


def _onto_diagonals(grad, unique, target, sizes):
    """`grad` (over the letters `unique`) spread onto the operand's `target` letters, zero
    off the diagonals of repeated letters: an einsum with one identity matrix per repeat."""
    free = iter(sorted(_LETTERS - set(target) - set(unique)))
    renamed, eyes, seen = [], [], set()
    for letter in target:
        if letter in seen:
            fresh = next(free)
            renamed.append(fresh)
            eyes.append(letter + fresh)
        else:
            seen.add(letter)
            renamed.append(letter)
    identities = [creation_ops.eye(sizes[pair[0]], dtype=grad.dtype) for pair in eyes]
    equation = ",".join([unique] + eyes) + "->" + "".join(renamed)
    return Einsum(grad, *identities, equation=equation)


def _einsum_explain(arrays, attrs, error):
    return (f"einsum equation '{attrs['equation']}' does not fit operands of shapes "
            f"{[list(a.shape) for a in arrays]}: {error}")


Einsum = Primitive("Einsum", quiet(_einsum_forward), _einsum_grad, explain=_einsum_explain)


def einsum(equation, *inputs, **kwargs):
    """Sums products of the elements of `inputs` over the indices `equation` names.

    Args:
      equation: Subscripts in NumPy/TF form: `"ij,jk->ik"` (matmul), `"bij->bji"`,
        `"...ij,...jk->...ik"` (batch dims broadcast), `"ii->i"` (diagonal), `"i,i"`
        (implicit output: the letters used once, in alphabetical order).
      *inputs: The operands, one per comma-separated term, of one dtype.
      **kwargs: `name` (ignored) and `optimize` (TF's contraction order hint: the
        result is the same whichever order is used).

    Returns:
      A Tensor.

    >>> import numpyflow as tf
    >>> x = tf.reshape(tf.range(6.), (2, 3))
    >>> tf.einsum("ij->ji", x).shape
    TensorShape([3, 2])
    >>> float(tf.einsum("ij,ij->", x, x))
    55.0
    """
    unknown = set(kwargs) - {"name", "optimize"}
    if unknown:
        raise TypeError(f"einsum() got unexpected keyword arguments {sorted(unknown)}")
    optimize = kwargs.get("optimize", "greedy")
    if optimize not in ("greedy", "optimal", "branch-2", "branch-all", "auto"):
        raise ValueError(f"einsum: `optimize` must be one of 'greedy', 'optimal', "
                         f"'branch-2', 'branch-all' or 'auto'. Received: optimize={optimize!r}")
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum: `equation` must be a string. Received: {equation!r}")
    tensors = _matching_tensors(inputs, "Einsum")
    if tensors and tensors[0]._value.dtype.kind not in "fiuc":
        raise invalid_argument("Einsum", f"einsum takes numeric tensors; received dtype "
                               f"{tensors[0].dtype.name}")
    shapes = [tuple(t._value.shape) for t in tensors]
    return Einsum(*tensors, equation=explicit_equation(equation, shapes))


def explicit_equation(equation, shapes):
    """`equation` for operands of `shapes` with its output spelled out and each `...`
    replaced by letters; raises a ValueError naming what does not fit.

    >>> explicit_equation("...ij,jk", [(5, 2, 3), (3, 4)])
    'Aij,jk->Aik'
    """
    text = equation.replace(" ", "")
    if "->" in text:
        lhs, rhs = text.split("->", 1)
    else:
        lhs, rhs = text, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: equation '{equation}' has {len(terms)} input term(s), but "
                         f"{len(shapes)} operand(s) were given.")
    for term in terms + ([rhs] if rhs is not None else []):
        bad = set(term.replace("...", "")) - _LETTERS
        if bad or term.replace("...", "").count(".") or "->" in term:
            raise ValueError(f"einsum: invalid equation '{equation}': subscripts must be "
                             f"letters, with at most one '...' per term.")
    free = iter(sorted(_LETTERS - set(text)))
    ellipsis_rank = 0
    for term, shape in zip(terms, shapes):
        named = len(term.replace("...", ""))
        if "..." in term:
            if len(shape) < named:
                raise ValueError(f"einsum: term '{term}' of equation '{equation}' names "
                                 f"{named} axes, but its operand has shape {list(shape)}.")
            ellipsis_rank = max(ellipsis_rank, len(shape) - named)
        elif named != len(shape):
            raise ValueError(f"einsum: term '{term}' of equation '{equation}' names {named} "
                             f"axes, but its operand has rank {len(shape)} (shape "
                             f"{list(shape)}).")
    ellipsis_letters = "".join(next(free) for _ in range(ellipsis_rank))
    expanded = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            own = len(shape) - len(term.replace("...", ""))
            term = term.replace("...", ellipsis_letters[ellipsis_rank - own:])
        expanded.append(term)
    if rhs is None:
        counts = {}
        for letter in "".join(expanded):
            counts[letter] = counts.get(letter, 0) + 1
        rhs = ellipsis_letters + "".join(sorted(
            letter for letter, count in counts.items()
            if count == 1 and letter not in ellipsis_letters))
    else:
        if "..." in rhs:
            rhs = rhs.replace("...", ellipsis_letters)
        elif ellipsis_letters:
            raise ValueError(f"einsum: equation '{equation}' has '...' in its inputs but not "
                             f"in its output.")
        used = set("".join(expanded))
        missing = [letter for letter in rhs if letter not in used]
        if missing or len(set(rhs)) != len(rhs):
            raise ValueError(f"einsum: invalid output subscripts '{rhs}' in equation "
                             f"'{equation}': each output letter must appear once, and in "
                             f"some input.")
    _check_sizes(equation, expanded, shapes, set(ellipsis_letters))
    return ",".join(expanded) + "->" + rhs


def _check_sizes(equation, terms, shapes, broadcastable):
    """Each letter has one size (letters from `...` may also be 1, and broadcast)."""
    sizes = {}
    for term, shape in zip(terms, shapes):
        for letter, size in zip(term, shape):
            known = sizes.get(letter)
            if known is None or known == size:
                sizes[letter] = size
            elif letter in broadcastable and 1 in (known, size):
                sizes[letter] = max(known, size)
            else:
                raise invalid_argument(
                    "Einsum", f"Expected dimension {known} for subscript '{letter}' of "
                    f"equation '{equation}', but an operand of shape {list(shape)} has "
                    f"dimension {size} there")


def _split(equation):
    lhs, rhs = equation.split("->")
    return lhs.split(","), rhs


__all__ = ["einsum", "explicit_equation"]
