"""Participation measures of a finished run: lurkers, content concentration, newcomers.

All read a model's member arrays (``model.state``) after a run:

- ``never_posted``: share of everyone who ever joined who never posted;
- ``top1_share``, ``top10_share``: share of all posts written by the top 1% / 10% of
  members by post count (van Mierlo 2014 counts all registered users);
- ``newcomer_reply_rate``: share of newcomers' first posting days that got a reply that day
  (newcomers: members who joined after day 0 and posted);
- ``return_replied``, ``return_unreplied``: share of those newcomers who posted again within
  ``window`` days of their first post, by whether the first post got a reply (Joyce & Kraut
  2006); only first posts at least ``window`` days before the end count; ``reply_effect``
  their difference;
- ``chatter_post_share``: share of all posts written by members who are chatters now (what
  most dilutes the superusers' share).

The model counts replies by day, so the unit above is a newcomer's first *posting day*. A
newcomer who posts several times that day is likelier to get a reply and, posting more
readily, likelier to come back: the difference between the return rates mixes the welcome's
effect with that selection. Joyce & Kraut's unit is one first post. Given every member's post
count on their first posting day (:func:`run_recording_first_days`), :func:`participation`
also reports the three newcomer measures on the first posting days with exactly one post
(``single_reply_rate``, ``single_return_replied``, ``single_return_unreplied``,
``single_reply_effect``; and ``single_post_share``, the share of newcomers' first posting days
with one post).
"""

from __future__ import annotations

import numpy as np

from qunsim.state import EntryPath, Role

__all__ = ["participation", "content_shares", "run_recording_first_days"]


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


def run_recording_first_days(model, steps: int, each_day=None) -> np.ndarray:
    """Step ``model`` ``steps`` days, one at a time (calling ``each_day(model)`` after each if
    given), and return every member's number of posts on their first posting day (−1 for a
    member who has not posted, or whose first post came before this call).

    >>> import qunsim as qs
    >>> m = qs.CommunityModel(rng=1, **{"community.n_prospects": 300, "run.agent_views": False})
    >>> first = run_recording_first_days(m, 30)
    >>> bool(((first >= 1) == (m.state.first_post_step >= 1)).all())
    True
    """
    st = model.state
    first = np.full(len(st.status), -1, np.int32)
    for _ in range(int(steps)):
        model.step()
        if len(first) < len(st.status):  # the population grew (a user graph, checkpoints)
            first = np.concatenate([first, np.full(len(st.status) - len(first), -1, np.int32)])
        today = np.flatnonzero(st.first_post_step == model.steps)
        first[today] = st.posts_yesterday[today]  # the day's own count, written at its end
        if each_day is not None:
            each_day(model)
    return first


def participation(model, window: int = 30, first_day_posts: np.ndarray | None = None) -> dict:
    """The participation measures of ``model`` (a :class:`~qunsim.CommunityModel`) now; with
    ``first_day_posts`` (from :func:`run_recording_first_days`) also the newcomer measures on
    single-post first days (module docstring)."""
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
    ret_rep = float(ret[ripe & rep].mean()) if n_rep else float("nan")
    ret_unrep = float(ret[ripe & ~rep].mean()) if n_unrep else float("nan")
    total = float(posts.sum())
    chat = float(posts[st.role[people] == Role.CHATTER].sum())
    return {
        "members": int(people.sum()),
        "never_posted": float((posts == 0).mean()) if len(posts) else float("nan"),
        "top1_share": top1,
        "top10_share": top10,
        "newcomer_posters": int(newc.sum()),
        "newcomer_reply_rate": float(rep[newc].mean()) if newc.any() else float("nan"),
        "return_replied": ret_rep,
        "return_unreplied": ret_unrep,
        "reply_effect": ret_rep - ret_unrep,
        "chatter_post_share": chat / total if total > 0 else float("nan"),
        "n_replied": n_rep,
        "n_unreplied": n_unrep,
    } | ({} if first_day_posts is None else _single_post(newc, ripe, ret, rep, np.asarray(first_day_posts)))


def _single_post(newc, ripe, ret, rep, first_day_posts) -> dict:
    """The newcomer measures restricted to first posting days with exactly one post."""
    one = np.zeros(len(newc), bool)
    one[:len(first_day_posts)] = first_day_posts[:len(newc)] == 1
    n1, r1 = newc & one, ripe & one
    nan = float("nan")
    back = float(ret[r1 & rep].mean()) if (r1 & rep).any() else nan
    not_back = float(ret[r1 & ~rep].mean()) if (r1 & ~rep).any() else nan
    return {"single_post_share": float(n1.sum() / newc.sum()) if newc.any() else nan,
            "single_reply_rate": float(rep[n1].mean()) if n1.any() else nan,
            "single_return_replied": back,
            "single_return_unreplied": not_back,
            "single_reply_effect": back - not_back}
