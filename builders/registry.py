"""The builders we support, by platform name: the one place that lists them."""

from __future__ import annotations

from builders.base import Builder
from builders.cafe24 import Cafe24
from builders.imweb import Imweb
from builders.makeshop import MakeShop
from builders.shopby import Shopby
from builders.shopify import Shopify

BUILDERS: dict[str, Builder] = {
    b.platform: b for b in (Cafe24(), Shopify(), MakeShop(), Shopby(), Imweb())
}


def builder_for(platform: str) -> Builder:
    try:
        return BUILDERS[platform]
    except KeyError:
        raise LookupError(f"unknown builder {platform!r}: {', '.join(BUILDERS)}") from None


def pull_platforms() -> list[str]:
    return [name for name, b in BUILDERS.items() if b.can_pull]
