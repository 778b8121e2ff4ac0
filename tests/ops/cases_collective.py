"""Op case for the all-reduce primitive (ops/collective_ops.py), on a stand-in
communicator of 2 replicas holding the same values: the sum is 2x, its gradient 2dy."""

from numpyflow.ops.collective_ops import all_reduce_buffer
from tests.distribute.fakes import MirrorCommunicator
from tests.ops.opcheck import case, rand

CASES = [
    case("CollectiveReduceV2", lambda x: all_reduce_buffer(x, MirrorCommunicator(), "sum"),
         lambda x: 2 * x, rand(3, 4)),
    case("CollectiveReduceV2", lambda x: all_reduce_buffer(x, MirrorCommunicator(), "mean"),
         lambda x: x, rand(5), id="CollectiveReduceV2_mean"),
]
