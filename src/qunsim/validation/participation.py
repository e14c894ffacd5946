"""Participation measures of a finished run: lurkers, content concentration, newcomers.

All read a model's member arrays (``model.state``) after a run:

- ``never_posted``: share of everyone who ever joined who never posted;
- ``top1_share``, ``top10_share``: share of all posts written by the top 1% / 10% of
  members by post count (van Mierlo 2014 counts all registered users);
- ``newcomer_reply_rate``: share of newcomers' first posting days that got a reply that day
  (newcomers: members who joined after day 0 and posted);
- ``return_replied``, ``return_unreplied``: share of those newcomers who posted again within
  ``window`` days of their first post, by whether the first post got a reply (Joyce & Kraut
  2006); only first posts at least ``window`` days before the end count.
"""

from __future__ import annotations

import numpy as np

from qunsim.state import EntryPath, Role

__all__ = ["participation", "content_shares"]


def content_shares(posts: np.ndarray, tops=(0.01, 0.1)) -> list[float]:
    """Share of all posts written by the top fraction of members, for each fraction.

    >>> content_shares(np.array([0] * 98 + [1, 99]), tops=(0.01, 0.5))
    [0.99, 1.0]
    """
    p = np.sort(np.asarray(posts, dtype=np.float64))[::-1]
    total = p.sum()
    out = []
    for f in tops:
        k = max(1, int(round(f * len(p))))
        out.append(float(p[:k].sum() / total) if total > 0 else 0.0)
    return out


def participation(model, window: int = 30) -> dict:
    """The participation measures of ``model`` (a :class:`~qunsim.CommunityModel`) now."""
    st = model.state
    t = int(model.steps)
    ever = st.join_step >= 0
    people = ever & ~np.isin(st.initial_role, (Role.SPAMMER, Role.MODERATOR))
    posts = st.posts[people]
    top1, top10 = content_shares(posts)
    newc = people & (st.entry_path != EntryPath.SEED) & (st.first_post_step >= 0)
    ripe = newc & (st.first_post_step <= t - window)
    ret = (st.return_step >= 0) & (st.return_step - st.first_post_step <= window)
    rep = st.first_replied
    n_rep, n_unrep = int((ripe & rep).sum()), int((ripe & ~rep).sum())
    return {
        "members": int(people.sum()),
        "never_posted": float((posts == 0).mean()) if len(posts) else float("nan"),
        "top1_share": top1,
        "top10_share": top10,
        "newcomer_posters": int(newc.sum()),
        "newcomer_reply_rate": float(rep[newc].mean()) if newc.any() else float("nan"),
        "return_replied": float(ret[ripe & rep].mean()) if n_rep else float("nan"),
        "return_unreplied": float(ret[ripe & ~rep].mean()) if n_unrep else float("nan"),
        "n_replied": n_rep,
        "n_unreplied": n_unrep,
    }
