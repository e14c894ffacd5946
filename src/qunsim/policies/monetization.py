"""Monetization policies (变现阶梯): ladders, ads, fees, commissions.

The interface is :class:`~qunsim.policies.base.MonetizationPolicy`; built-in ladders are
added here.
"""

from __future__ import annotations

__all__: list[str] = []
