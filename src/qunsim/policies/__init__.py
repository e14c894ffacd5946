"""Policies: entry gates, activity policies and monetization, as plug-ins.

Built-ins register themselves by key; see :mod:`qunsim.policies.base` for the interfaces.
"""

from qunsim.policies import activity, gates, monetization  # noqa: F401  (registration)
from qunsim.policies.activity import (
    ChatterModeration,
    Curation,
    ExpertEvents,
    GroupCap,
    PrivateCare,
    RateLimit,
    SpamModeration,
)
from qunsim.policies.base import (
    REGISTRY,
    ActivityPolicy,
    Gate,
    MonetizationPolicy,
    Policy,
    PolicyParams,
    build_policies,
    plugin_classes,
    plugin_fingerprints,
    register,
    resolve_class,
    user_classes,
    validate_policy_tables,
)
from qunsim.policies.gates import (
    ActivityRequirement,
    FeeGate,
    IdentityGate,
    InterestGate,
    ProcessGate,
)
from qunsim.policies.monetization import Ads, Ladder, MembershipFee, ProfitSharing

__all__ = [
    "Policy",
    "PolicyParams",
    "Gate",
    "ActivityPolicy",
    "MonetizationPolicy",
    "REGISTRY",
    "register",
    "resolve_class",
    "validate_policy_tables",
    "build_policies",
    "plugin_classes",
    "plugin_fingerprints",
    "user_classes",
    "InterestGate",
    "IdentityGate",
    "FeeGate",
    "ProcessGate",
    "ActivityRequirement",
    "SpamModeration",
    "ChatterModeration",
    "RateLimit",
    "Curation",
    "ExpertEvents",
    "PrivateCare",
    "GroupCap",
    "Ladder",
    "Ads",
    "MembershipFee",
    "ProfitSharing",
]
