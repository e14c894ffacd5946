"""A slow, obviously-correct per-agent reference implementation of qunsim's rules.

Two parts:

1. **Loop versions of the kernels** (``ref_*``): the same equations as
   :mod:`qunsim.kernels`, written one member / one message at a time with plain Python
   floats and lists, no numpy in the rules. Where a kernel draws random numbers, the loop
   version takes the draws as arguments (pre-drawn from a copy of the same generator, in the
   kernel's order), so the two can be compared *exactly* (``tests/test_reference.py``).

2. **A per-agent Mesa model** (:class:`ReferenceModel`): every person is a ``mesa.Agent``
   holding its own attributes; the day is a loop over agents (post, read, reply, update
   trust and satisfaction, decide to leave, imitate chatter) and over messages, with ties in
   a ``networkx.Graph``. It follows :meth:`qunsim.CommunityModel.step` rule by rule (see the
   numbered comments) but draws its randomness per agent, the way a straightforward Mesa
   model would, so it is compared with ``CommunityModel`` statistically, and it is the speed
   baseline of ``benchmarks/run.py``. It starts from the population a ``CommunityModel``
   built (same roles, attributes, graph, groups), so both models run from identical
   initial conditions. Scope: the rules of the core day without policies (a config with
   gate/activity/monetization policies is rejected).
"""

from __future__ import annotations

import bisect
import math

import mesa
import networkx as nx

__all__ = [
    "ref_posting_rates",
    "ref_make_messages",
    "ref_read",
    "ref_draw_replies",
    "ref_reply_weights",
    "ref_update_trust",
    "ref_trust_levels",
    "ref_relative_surplus",
    "ref_update_satisfaction",
    "ref_leave_probability",
    "ref_contagion_mask",
    "ref_chatter_conversion",
    "ref_accept_probability",
    "ref_exposure_candidates",
    "ref_referral_candidates",
    "ref_spread_word_of_mouth",
    "ref_content_low_quality",
    "ref_neighbor_counts",
    "ReferenceModel",
    "Person",
]

# role / status / reason codes (the same integers as qunsim.state)
OWNER, EXPERT, CONTRIBUTOR, REGULAR, CHATTER, SPAMMER, MODERATOR = range(7)
PROSPECT, ACTIVE, LEFT, BANNED = range(4)
R_NONE, R_DISSATISFIED, R_CONTAGION, R_INACTIVE, R_BANNED, R_FORCED = range(6)
P_SEED, P_EXPOSURE, P_REFERRAL = 1, 2, 3


def _clip01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


# =========================================================================================
# 1. per-agent loop versions of the kernels
# =========================================================================================


def ref_posting_rates(role, post_rate, group, newcomer, replies_yesterday, questions_per_answerer,
                      chatter_share, *, answer_base, answer_halfsat, chatter_contagion, reply_reward):
    """Expected posts today for each member, one member at a time."""
    out = []
    for i in range(len(role)):
        m = 1.0
        if role[i] in (EXPERT, CONTRIBUTOR):
            q = float(questions_per_answerer[group[i]])
            m = answer_base + (1.0 - answer_base) * q / (q + answer_halfsat)
        elif role[i] == CHATTER:
            m = 1.0 + chatter_contagion * float(chatter_share[group[i]])
        if reply_reward > 0 and newcomer[i]:
            m *= 1.0 + reply_reward * min(int(replies_yesterday[i]), 3)
        out.append(float(post_rate[i]) * m)
    return out


def ref_make_messages(authors, counts, group, quality, warmth, is_spam, noise_q, noise_w):
    """One message per post: ``(author, group, q, w, spam)``; ``noise_q``/``noise_w`` are the
    pre-drawn Gaussian noises, one per message in posting order."""
    out = []
    j = 0
    for i in range(len(authors)):
        for _ in range(int(counts[i])):
            q, w = float(quality[i]), float(warmth[i])
            if noise_q is not None:
                q, w = _clip01(q + float(noise_q[j])), _clip01(w + float(noise_w[j]))
            if is_spam[i]:
                q = w = 0.0
            out.append((int(authors[i]), int(group[i]), q, w, bool(is_spam[i])))
            j += 1
    return out


def _group_lists(messages, n_groups, curated):
    """Messages of each group in reading order: posting order, or best first if curated."""
    lists = [[] for _ in range(n_groups)]
    for msg in messages:
        lists[msg[1]].append(msg)
    for g in range(n_groups):
        if curated[g]:
            lists[g].sort(key=lambda msg: -msg[2])  # stable: equal quality keeps posting order
    return lists


def ref_read(messages, n_groups, group, attention, taste, interest, curated, overload_relief, *,
             spam_penalty, read_cost, overload_cost):
    """Per reader: ``(k, value, info, spam, overflow, buried, utility)``.

    ``messages`` is a list of ``(author, group, q, w, spam)``. Uncurated groups: the expected
    sums of a random read of ``k`` of ``V`` messages (``k/V`` times the group's sums);
    curated: the sums over the ``floor(k)`` best.
    """
    lists = _group_lists(messages, n_groups, curated)
    out = []
    for i in range(len(group)):
        msgs = lists[group[i]]
        V = len(msgs)
        a = max(float(attention[i]), 1e-9)
        k = min(float(V), a)
        om, io = float(taste[i]), float(interest[i])
        sq = sw = ss = 0.0
        if curated[group[i]]:
            k = float(math.floor(k))
            for msg in msgs[: int(k)]:
                sq += msg[2]
                sw += msg[3]
                ss += 1.0 if msg[4] else 0.0
        else:
            for msg in msgs:
                sq += msg[2]
                sw += msg[3]
                ss += 1.0 if msg[4] else 0.0
            frac = k / V if V > 0 else 0.0
            sq, sw, ss = frac * sq, frac * sw, frac * ss
        info = io * om * sq
        value = info + (1.0 - om) * sw - spam_penalty * ss
        over = max(V - a, 0.0)
        overflow = over / a
        buried = over / V if V > 0 else 0.0
        utility = value - read_cost * k - overload_cost * (1.0 - float(overload_relief[group[i]])) * math.log1p(overflow)
        out.append((k, value, info, ss, overflow, buried, utility))
    return out


def _reply_weight(msg) -> float:
    return 0.0 if msg[4] else 0.5 * (msg[2] + msg[3])


def ref_reply_weights(messages, n_groups, group, k, curated):
    """Expected reply weight ``W_i`` each reader read (the Poisson mean is ``p * W_i``)."""
    lists = _group_lists(messages, n_groups, curated)
    out = []
    for i in range(len(group)):
        msgs = lists[group[i]]
        V = len(msgs)
        if curated[group[i]]:
            out.append(sum(_reply_weight(m) for m in msgs[: int(math.floor(k[i]))]))
        else:
            frac = 1.0 if V == 0 else float(k[i]) / V
            out.append(sum(_reply_weight(m) for m in msgs) * frac)
    return out


def ref_draw_replies(messages, n_groups, readers, group, k, curated, R, u):
    """Reply pairs ``(reader, author)``: reader i makes ``R[i]`` replies (pre-drawn), each to
    the message where the pre-drawn uniform ``u`` falls on the cumulative reply weight of the
    messages it read (the group's in random order, the ``floor(k)`` best if curated)."""
    lists = _group_lists(messages, n_groups, curated)
    pairs = []
    j = 0
    for i in range(len(readers)):
        msgs = lists[group[i]]
        window = msgs[: int(math.floor(k[i]))] if curated[group[i]] else msgs
        total = sum(_reply_weight(m) for m in window)
        for _ in range(int(R[i])):
            target = float(u[j]) * total
            j += 1
            pick, acc = None, 0.0
            for m in window:
                acc += _reply_weight(m)
                if target < acc:
                    pick = m
                    break
            if pick is None:  # rounding at the top edge: the last message with weight
                pick = window[-1] if window else None
            if pick is None:
                continue
            author = pick[0]
            if author >= 0 and author != int(readers[i]):
                pairs.append((int(readers[i]), author))
    return pairs


def ref_update_trust(r, s, pos, neg, memory):
    rr, ss = [], []
    for i in range(len(r)):
        rr.append(memory * float(r[i]) + max(float(pos[i]), 0.0))
        ss.append(memory * float(s[i]) + max(float(neg[i]), 0.0))
    return rr, ss


def ref_trust_levels(r, s, weak, strong, strong_evidence):
    out = []
    for i in range(len(r)):
        t = (float(r[i]) + 1.0) / (float(r[i]) + float(s[i]) + 2.0)
        if t >= strong and float(r[i]) + float(s[i]) >= strong_evidence:
            out.append(2)
        elif t >= weak:
            out.append(1)
        else:
            out.append(0)
    return out


def ref_relative_surplus(utility, need, clip=2.0):
    out = []
    for i in range(len(utility)):
        x = (float(utility[i]) - float(need[i])) / float(need[i]) if need[i] > 0 else 0.0
        out.append(min(max(x, -clip), clip))
    return out


def ref_update_satisfaction(S, surplus, memory):
    return [memory * float(S[i]) + (1.0 - memory) * float(surplus[i]) for i in range(len(S))]


def ref_leave_probability(S, damping, *, base, maximum, slope, midpoint):
    out = []
    for i in range(len(S)):
        z = slope * (float(S[i]) - midpoint)
        h = base + (maximum / (1.0 + math.exp(z)) if z < 700 else 0.0)
        out.append(_clip01(h / max(float(damping[i]), 1.0)))
    return out


def ref_contagion_mask(left_neighbors, member_neighbors, threshold):
    out = []
    for i in range(len(left_neighbors)):
        left, mem = float(left_neighbors[i]), float(member_neighbors[i])
        frac = left / max(mem, 1.0) if mem > 0 else 0.0
        out.append(left > 0 and frac >= float(threshold[i]))
    return out


def ref_chatter_conversion(taste, share, rate, u):
    return [float(taste[i]) < 0.5 and float(u[i]) < rate * (1.0 - float(taste[i])) * float(share[i])
            for i in range(len(taste))]


def ref_accept_probability(interest, heard, referred, *, accept, wom_weight):
    out = []
    for i in range(len(interest)):
        p = accept * (0.25 + 0.75 * float(interest[i])) * math.exp(-wom_weight * float(heard[i]))
        if referred[i]:
            p *= 1.5
        out.append(_clip01(p))
    return out


def ref_exposure_candidates(status, who):
    """Of the people ``who`` reached by content/ads (pre-drawn), those who are prospects."""
    return [int(x) for x in who if status[x] == PROSPECT]


def ref_content_low_quality(history, memory):
    """The low-quality share of all messages so far, the day ``age`` days before the last
    weighing ``memory ** age``; ``history`` holds the days' rows (``messages`` and
    ``low_quality``, a count, or ``low_quality_share``); 0 before any message."""
    num = den = 0.0
    weight = 1.0
    for row in reversed(history):
        m = float(row["messages"])
        low = float(row["low_quality"]) if "low_quality" in row else float(row["low_quality_share"]) * m
        num += weight * low
        den += weight * m
        weight *= memory
        if weight == 0.0:
            break
    return num / den if den > 0 else 0.0


def ref_referral_candidates(inviters, invites, neighbors, status, u):
    """Each inviter with ties sends ``invites`` invitations, each to the neighbour the pre-drawn
    uniform picks (``neighbors[i]`` lists i's neighbours in CSR order)."""
    out = []
    j = 0
    for i, n_inv in zip(inviters, invites, strict=True):
        nb = neighbors[int(i)]
        if not nb:
            continue
        for _ in range(int(n_inv)):
            c = nb[int(float(u[j]) * len(nb))]
            j += 1
            if status[c] == PROSPECT:
                out.append((int(c), int(i)))
    return out


def ref_spread_word_of_mouth(heard, leavers, neighbors, reach, u_offline, online):
    """Returns a new ``heard`` list: each leaver tells up to ``floor(reach)`` neighbours
    (picked by the pre-drawn uniforms, with replacement), and the pre-drawn ``online`` people."""
    heard = [float(h) for h in heard]
    j = 0
    for i in leavers:
        nb = neighbors[int(i)]
        for _ in range(min(len(nb), int(math.floor(reach)))):
            heard[nb[int(float(u_offline[j]) * len(nb))]] += 1.0
            j += 1
    for x in online:
        heard[int(x)] += 1.0
    return heard


def ref_neighbor_counts(neighbors, nodes, numerator, denominator):
    """Per node: (sum of numerator, sum of denominator) over its neighbours."""
    out = []
    for i in nodes:
        num = den = 0.0
        for j in neighbors[int(i)]:
            num += float(numerator[j])
            den += float(denominator[j])
        out.append((num, den))
    return out


# =========================================================================================
# 2. the per-agent Mesa model
# =========================================================================================

_ATTRS = ("role", "initial_role", "status", "group", "join_step", "leave_step", "leave_reason",
          "entry_path", "tier", "quality", "warmth", "post_rate", "attention", "taste", "need",
          "threshold", "interest", "trust_r", "trust_s", "satisfaction", "spend", "commitment",
          "heard", "posts", "posts_yesterday", "replies_yesterday", "last_post", "leader_tie",
          "strong_ties", "propensity", "first_post_step", "return_step", "first_replied")


class Person(mesa.Agent):
    """One person of the population (prospect, member or leaver), attributes as Python values."""

    def __init__(self, model: ReferenceModel, index: int):
        super().__init__(model)
        self.index = index
        self.leader = -1
        self.replies_today = 0
        self.posts_today = 0

    @property
    def trust(self) -> float:
        return (self.trust_r + 1.0) / (self.trust_r + self.trust_s + 2.0)

    # -- 2. posting -----------------------------------------------------------------------
    def post(self, t: int) -> None:
        m, p = self.model, self.model.p
        newcomer = (t - self.join_step) <= p.newcomer_days and self.entry_path != P_SEED
        mult = 1.0
        if self.role in (EXPERT, CONTRIBUTOR):
            q = m.yesterday_q[self.group]
            mult = p.answer_base + (1.0 - p.answer_base) * q / (q + p.answer_halfsat)
        elif self.role == CHATTER:
            mult = 1.0 + p.chatter_contagion * m.yesterday_chat[self.group]
        if p.reply_reward > 0 and newcomer:
            mult *= 1.0 + p.reply_reward * min(self.replies_yesterday, 3)
        # participation: the member's propensity on the role's rate; a newcomer who has not
        # posted yet posts at least first_post_rate a day, and one who has posted once posts at
        # least follow_up_rate a day until posting again (for newcomer_days after it), at least
        # welcome_rate too if that first post got a reply
        rate = self.post_rate * self.propensity
        if p.first_post_rate > 0 and newcomer and self.first_post_step < 0:
            rate = max(rate, p.first_post_rate)
        if (self.entry_path != P_SEED and self.return_step < 0
                and 0 <= self.first_post_step < t and t - self.first_post_step <= p.newcomer_days):
            rate = max(rate, p.follow_up_rate, p.welcome_rate if self.first_replied else 0.0)
        self.posts_today = int(m.rng.poisson(rate * mult))
        for _ in range(self.posts_today):
            q, w = self.quality, self.warmth
            if p.message_noise > 0:
                q = _clip01(q + m.rng.normal(0.0, p.message_noise))
                w = _clip01(w + m.rng.normal(0.0, p.message_noise))
            spam = self.role == SPAMMER
            if spam:
                q = w = 0.0
            m.messages.append((self.index, self.group, q, w, spam))
            m.group_messages[self.group].append((self.index, self.group, q, w, spam))

    # -- 4. reading and 5. replies --------------------------------------------------------
    def read_and_reply(self) -> None:
        m, p = self.model, self.model.p
        g = self.group
        V = len(m.group_messages[g])
        tq, tw, ts, tr = m.group_sums[g]
        a = max(self.attention, 1e-9)
        k = min(float(V), a)
        frac = k / V if V > 0 else 0.0
        sq, sw, ss = frac * tq, frac * tw, frac * ts
        info = self.interest * self.taste * sq
        value = info + (1.0 - self.taste) * sw - p.spam_penalty * ss
        overflow = max(V - a, 0.0) / a
        self.read_utility = value - p.read_cost * k - p.overload_cost * math.log1p(overflow)
        self.spam_read = ss
        self.read_k, self.read_value = k, value
        # replies: Poisson(p * W) replies, each to a message drawn by reply weight
        W = tr * (1.0 if V == 0 else k / V)
        n_rep = int(m.rng.poisson(p.reply_prob * W)) if V and p.reply_prob > 0 else 0
        cum = m.group_cum_reply[g]
        for _ in range(n_rep):
            j = bisect.bisect_right(cum, m.rng.random() * tr)
            msg = m.group_messages[g][min(j, V - 1)]
            if msg[0] >= 0 and msg[0] != self.index:
                m.replies.append((self.index, msg[0]))

    # -- 6. trust and 8. satisfaction -----------------------------------------------------
    def update(self, t: int) -> None:
        m, p = self.model, self.model.p
        u = self.read_utility + p.recognition * self.replies_today
        tenure = float(t - self.join_step)
        need = self.need * (1.0 + p.habituation * tenure / 365.0)
        if need > 0:
            surplus = min(max((u - need) / need, -2.0), 2.0)
        else:
            surplus = 0.0
        pos = max(surplus, 0.0) + 0.1 * min(self.replies_today, 5)
        neg = max(-surplus, 0.0) + p.spam_distrust * self.spam_read
        self.trust_r = p.trust_memory * self.trust_r + max(pos, 0.0)
        self.trust_s = p.trust_memory * self.trust_s + max(neg, 0.0)
        self.satisfaction = p.satisfaction_memory * self.satisfaction + (1.0 - p.satisfaction_memory) * surplus
        # commitment: sunk cost (log of the amount paid), tier, strong ties, trust (doubled for
        # members tied to a leader), what policies added
        damping = (1.0 + p.commit_sunk * math.log1p(self.spend) + p.commit_tier * self.tier
                   + p.commit_ties * self.strong_ties
                   + p.commit_identity * self.trust * (1.0 if self.leader_tie else 0.5) + self.commitment)
        z = p.hazard_slope * (self.satisfaction - p.hazard_midpoint)
        h = p.hazard_base + (p.hazard_max / (1.0 + math.exp(z)) if z < 700 else 0.0)
        pl = _clip01(h / max(damping, 1.0))
        if tenure < p.grace_days or self.need <= 0:
            pl = 0.0
        self.dissatisfied = m.rng.random() < pl

    def newcomer_feedback(self, t: int) -> None:
        """Called on a posting day: the first one is recorded, and a reply that day is a
        welcome (propensity *= 1 + welcome_boost, commitment += welcome_commitment); the next
        posting day is the return."""
        p = self.model.p
        if self.first_post_step < 0:
            self.first_post_step = t
            if self.replies_today > 0:
                self.first_replied = True
                self.propensity *= 1.0 + p.welcome_boost
                self.commitment += p.welcome_commitment
        elif self.first_post_step < t and self.return_step < 0:
            self.return_step = t

    def contagion(self, t: int) -> bool:
        m, p = self.model, self.model.p
        if self.threshold >= 1.0:
            return False
        left = ever = 0
        for j in m.graph.adj[self.index]:
            other = m.people[j]
            if other.status in (LEFT, BANNED) and (p.contagion_window <= 0
                                                  or other.leave_step > t - p.contagion_window):
                left += 1
            if other.join_step >= 0:
                ever += 1
        return left > 0 and ever > 0 and left / ever >= self.threshold

    def imitate_chatter(self) -> bool:
        m, p = self.model, self.model.p
        chat = act = 0
        for j in m.graph.adj[self.index]:
            other = m.people[j]
            if other.status == ACTIVE:
                act += 1
                if other.role == CHATTER:
                    chat += 1
        share = chat / act if act else 0.0
        prob = p.chatter_conversion * (1.0 - self.taste) * share
        return m.rng.random() < prob and self.taste < 0.5

    def turn_chatter(self, ch) -> None:
        """Become a chatter: at least a chatter's posting rate and warmth, at most its quality,
        and the larger of one's own volume and a chatter's rate (a lurker posts like a chatter;
        a superuser keeps their volume, not eight times it)."""
        own = self.post_rate * self.propensity
        self.role = CHATTER
        self.post_rate = max(self.post_rate, ch.post_rate.mean)
        self.propensity = max(own / self.post_rate if self.post_rate > 0 else 0.0, 1.0)
        self.quality = min(self.quality, ch.quality.mean)
        self.warmth = max(self.warmth, ch.warmth.mean)


class ReferenceModel(mesa.Model):
    """Per-agent reference of :class:`qunsim.CommunityModel` (the core day, no policies).

    Parameters
    ----------
    source : a freshly built ``CommunityModel`` (step 0) whose population, graph and groups
        are copied: both models start from identical initial conditions.
    rng : seed of this model's own generator (its draws are made per agent, in agent order).
    """

    def __init__(self, source, *, rng=None):
        super().__init__(rng=rng)
        cfg = source.config
        if any(source.policies[f] for f in ("gate", "activity", "monetization")):
            raise ValueError("the reference model implements the core rules only: use a config without policies")
        if source.steps != 0:
            raise ValueError("copy the population of a model that has not stepped yet")
        self.p, self.com = cfg.dynamics, cfg.community
        self.chatter_means = cfg.roles["chatter"]
        st = source.state
        self.people = [Person(self, i) for i in range(st.n)]
        for name in _ATTRS:
            col = getattr(st, name).tolist()
            for person, v in zip(self.people, col, strict=True):
                setattr(person, name, v)
        for person, lead in zip(self.people, source.leader.tolist(), strict=True):
            person.leader = lead
        self.leaders = source.leaders.tolist()
        self.n_groups = source.n_groups
        self.yesterday_q = [float(x) for x in source._yesterday_q]
        self.yesterday_chat = [float(x) for x in source._yesterday_chat]
        # ties: merged ties in a networkx graph, queued ones in a dict (merged in bulk, like
        # SocialGraph: a tie made today is not a neighbour until the next merge)
        self.graph = nx.Graph()
        self.graph.add_nodes_from(range(st.n))
        u, v = source.social.endpoints()
        self.graph.add_weighted_edges_from(zip(u.tolist(), v.tolist(), source.social.weight.tolist(), strict=True))
        self.pending: dict[tuple[int, int], float] = {}
        for k_arr, w_arr in zip(source.social._pending_keys, source.social._pending_w, strict=True):
            for key, w in zip(k_arr.tolist(), w_arr.tolist(), strict=True):
                pair = divmod(key, st.n)
                self.pending[pair] = max(self.pending.get(pair, 0.0), w)
        self.history: list[dict] = [self._row(0, 0)]

    # -- helpers --------------------------------------------------------------------------
    def active(self) -> list[Person]:
        return [x for x in self.people if x.status == ACTIVE]

    def _queue_tie(self, a: int, b: int, w: float) -> None:
        pair = (min(a, b), max(a, b))
        self.pending[pair] = max(self.pending.get(pair, 0.0), w)

    def _merge(self) -> None:
        for (a, b), w in self.pending.items():
            if self.graph.has_edge(a, b):
                self.graph[a][b]["weight"] = max(self.graph[a][b]["weight"], w)
            else:
                self.graph.add_edge(a, b, weight=w)
        self.pending = {}

    def _join(self, joiners: list[tuple[int, int]], t: int) -> None:
        """``joiners``: (person, entry path). Each takes a free slot in a group (new groups open
        when all are full), then may get a tie to a leader."""
        if not joiners:
            return
        cap = self.com.group_cap
        room = [cap] * self.n_groups
        for x in self.people:
            if x.status == ACTIVE:
                room[x.group] -= 1
        counts = [cap - r for r in room]
        room = [max(r, 0) for r in room]
        # newcomers go to groups that have members; empty groups only when the others are full
        in_use = [r if c > 0 else 0 for r, c in zip(room, counts, strict=True)]
        if sum(in_use) >= len(joiners):
            room = in_use
        need = len(joiners) - sum(room)
        if need > 0:
            extra = -(-need // cap)
            room += [cap] * extra
            self.n_groups += extra
            self.yesterday_q += [0.0] * extra
            self.yesterday_chat += [0.0] * extra
        for i, path in joiners:
            x = self.people[i]
            total = sum(room)
            r = self.rng.random() * total
            g, acc = 0, room[0]
            while r >= acc and g < len(room) - 1:
                g += 1
                acc += room[g]
            room[g] -= 1
            x.group, x.status, x.join_step, x.entry_path, x.satisfaction = g, ACTIVE, t, path, 0.0
        live = [lead for lead in self.leaders if self.people[lead].status == ACTIVE]
        if live and self.com.leader_tie_share > 0:
            for i, _ in joiners:
                x = self.people[i]
                if x.role == OWNER or not self.rng.random() < self.com.leader_tie_share:
                    continue
                lead = live[0] if self.com.structure == "pyramid" else live[int(self.rng.integers(len(live)))]
                x.leader, x.leader_tie = lead, True
                self._queue_tie(i, lead, self.p.strong_tie)
        self.joins_today += len(joiners)

    def _remove(self, x: Person, reason: int, t: int) -> None:
        if x.status != ACTIVE:
            return
        x.status = BANNED if reason == R_BANNED else LEFT
        x.leave_step, x.leave_reason = t, reason
        self.leaves_today += 1
        if x.role == OWNER:
            for y in self.people:
                if y.leader == x.index:
                    y.trust_s += self.p.leader_loss
                    y.leader_tie, y.leader = False, -1
        if reason in (R_DISSATISFIED, R_CONTAGION):
            self.unhappy.append(x.index)

    # -- the day --------------------------------------------------------------------------
    def step(self) -> None:
        p, t = self.p, self.steps
        self.joins_today = self.leaves_today = 0
        self.unhappy: list[int] = []
        self.arrivals(t)
        members = self.active()
        if not members:
            self.finish_day(t, 0)
            return
        # 2. posting
        self.messages: list[tuple] = []
        self.group_messages: list[list[tuple]] = [[] for _ in range(self.n_groups)]
        for x in members:
            x.post(t)
        # 4. reading: each group's sums once, then every reader
        self.group_sums, self.group_cum_reply = [], []
        for msgs in self.group_messages:
            tq = tw = ts = tr = 0.0
            cum = []
            for msg in msgs:
                tq += msg[2]
                tw += msg[3]
                ts += 1.0 if msg[4] else 0.0
                tr += _reply_weight(msg)
                cum.append(tr)
            self.group_sums.append((tq, tw, ts, tr))
            self.group_cum_reply.append(cum)
        self.replies: list[tuple[int, int]] = []
        for x in members:
            x.replies_today = 0
            x.read_and_reply()
        # 5. ties: each reply strengthens the reader-author tie (new ties are queued)
        today: dict[tuple[int, int], float] = {}
        inc = p.tie_increment
        for reader, author in self.replies:
            self.people[author].replies_today += 1
            if inc <= 0:
                continue
            a, b = min(reader, author), max(reader, author)
            if self.graph.has_edge(a, b):
                e = self.graph[a][b]
                e["weight"] = 1.0 - (1.0 - e["weight"]) * (1.0 - inc)
            else:
                today[(a, b)] = 1.0 - (1.0 - today.get((a, b), 0.0)) * (1.0 - inc)
        form = getattr(p, "tie_formation", 1.0)  # chance a reply between strangers makes a tie
        for pair, w in today.items():
            if form >= 1.0 or self.rng.random() < form:
                self._queue_tie(*pair, w)
        if p.tie_decay > 0:
            for _, _, e in self.graph.edges(data=True):
                e["weight"] *= 1.0 - p.tie_decay
        # 6. trust, 8. satisfaction and the leaving decision
        for x in members:
            x.update(t)
        contagious = {x.index for x in members if p.contagion and x.contagion(t)}
        for x in members:
            if x.index in contagious:
                self._remove(x, R_CONTAGION, t)
        for x in members:
            if x.dissatisfied and x.index not in contagious:
                self._remove(x, R_DISSATISFIED, t)
        # chatter contagion among regulars
        if p.chatter_conversion > 0:
            ch = self.chatter_means
            for x in [y for y in members if y.role == REGULAR and y.status == ACTIVE]:
                if x.imitate_chatter():
                    x.turn_chatter(ch)
        # bookkeeping for tomorrow
        for x in self.people:
            x.replies_yesterday = 0
        for x in members:
            x.posts += x.posts_today
            x.posts_yesterday = min(x.posts_today, 32767)
            x.replies_yesterday = min(x.replies_today, 32767)
            if x.posts_today:
                x.last_post = t
                x.newcomer_feedback(t)
        self.yesterday_stats(t)
        self.finish_day(t, len(self.messages))

    def arrivals(self, t: int) -> None:
        p = self.p
        for x in self.people:
            x.heard *= p.wom_memory
        ramp = min(1.0, t / p.inflow_ramp) if p.inflow_ramp > 0 else 1.0
        rate = p.inflow * ramp * 0.5 ** ((t - 1) / p.inflow_halflife)
        if getattr(p, "content_bounce", 0.0) > 0 and rate > 0:
            # visitors who land on chatter or spam leave: the content so far, older days fading
            rate *= 1.0 - p.content_bounce * ref_content_low_quality(self.history, p.content_memory)
        n = len(self.people)
        candidates: dict[int, bool] = {}  # person -> invited by a member (else exposed)
        inviters = [x for x in self.people if x.status == ACTIVE and x.trust >= p.referral_trust
                    and x.role != SPAMMER]
        for x in inviters:
            nb = list(self.graph.adj[x.index])
            for _ in range(int(self.rng.poisson(p.referral_rate))):
                if nb:
                    c = nb[int(self.rng.random() * len(nb))]
                    if self.people[c].status == PROSPECT:
                        candidates[c] = True
        for _ in range(int(self.rng.poisson(rate)) if rate > 0 else 0):
            c = int(self.rng.integers(n))
            if self.people[c].status == PROSPECT:
                candidates.setdefault(c, False)
        joiners = []
        for c in sorted(candidates):
            x = self.people[c]
            pa = p.accept * (0.25 + 0.75 * x.interest) * math.exp(-p.wom_weight * x.heard)
            pa = _clip01(1.5 * pa if candidates[c] else pa)
            if self.rng.random() < pa:
                joiners.append((c, P_REFERRAL if candidates[c] else P_EXPOSURE))
        self._join(joiners, t)

    def yesterday_stats(self, t: int) -> None:
        G = self.n_groups
        q, chat, tot, answerers = [0.0] * G, [0.0] * G, [0.0] * G, [0.0] * G
        for author, g, _, _, spam in self.messages:
            x = self.people[author]
            tot[g] += 1
            if x.role == CHATTER:
                chat[g] += 1
            newcomer = (t - x.join_step) <= self.p.newcomer_days
            if (x.role == REGULAR or (newcomer and x.role != EXPERT)) and not spam:
                q[g] += 1
        for x in self.people:
            if x.status == ACTIVE and x.role in (EXPERT, CONTRIBUTOR):
                answerers[x.group] += 1
        self.yesterday_q = [q[g] / max(answerers[g], 1.0) for g in range(G)]
        self.yesterday_chat = [chat[g] / tot[g] if tot[g] > 0 else 0.0 for g in range(G)]

    def finish_day(self, t: int, n_messages: int) -> None:
        p = self.p
        # 9. word of mouth: own ties first (offline), the rest online
        n = len(self.people)
        rest = 0.0
        for i in self.unhappy:
            nb = list(self.graph.adj[i])
            k_off = min(len(nb), int(math.floor(p.wom_reach)))
            for _ in range(k_off):
                self.people[nb[int(self.rng.random() * len(nb))]].heard += 1.0
            rest += max(p.wom_reach - k_off, 0.0)
        if self.unhappy and p.wom_reach > 0:
            for _ in range(int(self.rng.poisson(rest))):
                self.people[int(self.rng.integers(n))].heard += 1.0
        n_edges = self.graph.number_of_edges()
        if len(self.pending) > max(0.05 * n_edges, 1000) or (t % 7 == 0 and self.pending):
            self._merge()
        for x in self.people:
            x.strong_ties = 0
        for a, b, w in self.graph.edges(data="weight"):
            if w >= p.strong_tie and self.people[a].status == ACTIVE and self.people[b].status == ACTIVE:
                self.people[a].strong_ties += 1
                self.people[b].strong_ties += 1
        self.history.append(self._row(t, n_messages))
        if not any(x.status == ACTIVE for x in self.people):
            self.running = False

    def _row(self, t: int, n_messages: int) -> dict:
        act = [x for x in self.people if x.status == ACTIVE]
        low = sum(1 for msg in getattr(self, "messages", ()) if msg[4] or self.people[msg[0]].role == CHATTER) \
            if n_messages else 0
        return {"step": t, "active": len(act), "messages": n_messages, "low_quality": low,
                "joins": getattr(self, "joins_today", 0), "leaves": getattr(self, "leaves_today", 0),
                "trust_mean": sum(x.trust for x in act) / len(act) if act else 0.0}
