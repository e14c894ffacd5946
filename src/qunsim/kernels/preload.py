"""Importing this module loads every compiled kernel (:func:`qunsim.kernels.warm_up`).

The sweep's local process pool preloads it in its fork server, so that every worker forked
from it starts with the kernels loaded: a run's time (and its timeout) then counts the run,
not the loading of the compiled code.
"""

from qunsim.kernels import warm_up

warm_up()
