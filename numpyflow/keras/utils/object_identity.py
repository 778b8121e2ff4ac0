"""Collections by object identity: Tensors and Variables are unhashable (`==` is
element-wise), and two distinct layers may compare equal, so "each once" means "each
object once"."""


def unique_objects(items):
    """`items` in their order, each object once.

    >>> a, b = [1], [1]
    >>> unique_objects([a, b, a]) == [a, b]
    True
    """
    seen, result = set(), []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            result.append(item)
    return result
