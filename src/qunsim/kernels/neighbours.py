"""Incremental neighbour bookkeeping (compiled): the counts the day needs about each member's
ties, kept up to date on events instead of recomputed over all ties every day.

- ``left_n[i]``: neighbours of i who left (LEFT or BANNED) within the contagion window;
  ``member_n[i]``: neighbours of i who ever joined. Updated on joins and departures and when
  a departure ages out of the window (at the latest when ties are merged); when new ties are
  merged into the graph, updated over the new ties only
  (:func:`qunsim.kernels.day.merge_and_update`).
- ``strong_ties[i]``: ties of i of strength >= ``strong_tie`` to active members. Updated when
  a reply makes a tie cross the threshold (:mod:`qunsim.kernels.ties`), on joins and
  departures, and at a merge over the new ties and the existing ties it raises across the
  threshold; recounted (one pass over the ties) when ties decay.

The updates give exactly the arrays of a recount (:func:`recount_neighbours`,
:func:`recount_strong`) as long as every change goes through them; the merge recounts
instead when that is not sure (a model's first merge, changed ``dynamics``, a member with
32,767 ties or more: the int16 strong-tie count saturates).

Neighbours are those of the merged graph (CSR ``indptr``/``indices``); ties queued for the
next merge are not neighbours yet.
"""

from __future__ import annotations

import numpy as np

from qunsim._jit import njit
from qunsim.network import find_edge

__all__ = ["recount_neighbours", "joins_update", "departures_update", "age_out", "recount_strong",
           "chatter_candidates"]

_ACTIVE, _LEFT, _BANNED = 1, 2, 3
_REGULAR, _CHATTER = 3, 4


@njit
def recount_neighbours(indptr, indices, status, join_step, leave_step, t, window, left_n, member_n):
    """Recount ``left_n`` and ``member_n`` (in place) at step ``t``: a departure counts while
    ``leave_step > t - window`` (always when ``window <= 0``)."""
    n = len(status)
    for i in range(n):
        left = 0
        mem = 0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            s = status[j]
            if (s == _LEFT or s == _BANNED) and (window <= 0 or leave_step[j] > t - window):
                left += 1
            if join_step[j] >= 0:
                mem += 1
        left_n[i] = left
        member_n[i] = mem


@njit
def _add_to_neighbours(ids, indptr, indices, counts, delta):
    for i in ids:
        for e in range(indptr[i], indptr[i + 1]):
            counts[indices[e]] += delta


@njit
def joins_update(ids, indptr, indices, keys, rowptr, weight, status, strong, member_n, strong_ties):
    """Members ``ids`` just joined (their status is already ACTIVE): each becomes an
    ever-member neighbour of its ties, and its strong ties to active members count on both
    sides (joiners are taken one after the other, so a tie between two joiners counts once)."""
    n = len(status)
    _add_to_neighbours(ids, indptr, indices, member_n, 1)
    for i in ids:
        status[i] = 0  # re-activated one by one below
    for i in ids:
        status[i] = _ACTIVE
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if status[j] != _ACTIVE:
                continue
            x = find_edge(keys, rowptr, n, i, j)
            if x >= 0 and weight[x] >= strong:
                count_strong_pair(strong_ties, i, j)


@njit
def count_strong_pair(strong_ties, x, y):
    """One more strong tie between active members ``x`` and ``y``: counts in both members'
    ``strong_ties`` (saturating at the int16 maximum)."""
    if strong_ties[x] < 32767:
        strong_ties[x] += 1
    if strong_ties[y] < 32767:
        strong_ties[y] += 1


@njit
def departures_update(ids, indptr, indices, keys, rowptr, weight, status, strong, left_n, strong_ties):
    """Members ``ids`` just left (status already LEFT/BANNED): each becomes a left neighbour of
    its ties, and its strong ties stop counting (its own count becomes 0)."""
    n = len(status)
    _add_to_neighbours(ids, indptr, indices, left_n, 1)
    for i in ids:
        if strong_ties[i] > 0:
            for e in range(indptr[i], indptr[i + 1]):
                j = indices[e]
                if status[j] != _ACTIVE:
                    continue
                x = find_edge(keys, rowptr, n, i, j)
                if x >= 0 and weight[x] >= strong and strong_ties[j] > 0:
                    strong_ties[j] -= 1
        strong_ties[i] = 0


@njit
def age_out(ids, indptr, indices, left_n):
    """Departures ``ids`` left the contagion window: they no longer count as left neighbours."""
    _add_to_neighbours(ids, indptr, indices, left_n, -1)


@njit
def recount_strong(keys, weight, n, status, strong, strong_ties):
    """Recount ``strong_ties`` (in place) over all ties; returns the number of strong ties
    between active members."""
    strong_ties[:] = 0
    total = 0
    for e in range(len(keys)):
        if weight[e] < strong:
            continue
        u = keys[e] // n
        v = keys[e] - u * n
        if status[u] == _ACTIVE and status[v] == _ACTIVE:
            total += 1
            count_strong_pair(strong_ties, u, v)
    return total


@njit
def chatter_candidates(regulars, u, role, status, taste, indptr, indices, rate):
    """Stage *chatter conversion*: which of today's active ``regulars`` turn chatter.

    ``u``: one uniform per regular (aligned); a regular with ``taste < 0.5`` converts with
    probability ``rate * (1 - taste) * s``, ``s`` the share of its active ties who chat
    (shares taken before anyone converts). Only members whose uniform falls under the largest
    possible probability (``s = 1``) have their neighbourhood looked at. Returns their ids.
    """
    out = np.empty(len(regulars), np.int64)
    m = 0
    us = np.empty(len(regulars))
    cand = np.empty(len(regulars), np.int64)
    c = 0
    for x in range(len(regulars)):
        i = regulars[x]
        if taste[i] < 0.5 and u[x] < rate * (1.0 - taste[i]):
            cand[c] = i
            us[c] = u[x]
            c += 1
    for x in range(c):
        i = cand[x]
        chat = 0
        act = 0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if status[j] == _ACTIVE:
                act += 1
                if role[j] == _CHATTER:
                    chat += 1
        share = chat / act if act > 0 else 0.0
        if us[x] < rate * (1.0 - np.float64(taste[i])) * share:
            out[m] = i
            m += 1
    return out[:m]
