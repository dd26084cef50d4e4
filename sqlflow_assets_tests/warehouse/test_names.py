"""Bulk name normalisation: the parser-free path for plain names gives exactly what the parser gives."""

from __future__ import annotations

import random

import pytest

from sqlflow_assets.api.vendors import SUPPORTED_VENDORS
from sqlflow_assets.warehouse import names


def _words() -> list[str]:
    """Plain words, mixed case, and every keyword and function name a supported dialect knows."""
    words = {"orders", "Orders", "SCOTT", "emp", "_x", "a1", "x_Y", "offset", "limit", "user", "table", "date", "rows", "default"}
    for vendor in SUPPORTED_VENDORS:
        dialect = names._dialect(vendor)
        words |= {word for word in dialect.tokenizer_class.KEYWORDS if word.replace("_", "").isalnum()}
        words |= set(list(dialect.parser_class.FUNCTIONS)[:300])
    return sorted(words)


SAMPLE = (lambda words, rng: [*words, *(".".join(rng.choice(words) for _ in range(rng.randint(1, 4))) for _ in range(3000)),
                              '"Raw"."Orders"', "[dbo].[Orders]", "`a`.`b`", "a..b", "#tmp", "x.y z", "1abc.t", "DEFAULT.DEFAULT.orders"])(
    _words(), random.Random(18))


@pytest.mark.parametrize("vendor", [None, *SUPPORTED_VENDORS])
def test_bulk_normalisation_equals_one_parse_per_name(vendor):
    for context in (names.NameContext(vendor, None, None), names.NameContext(vendor, "wh", "Public")):
        names._parts_cached.cache_clear()
        assert names.normalize_names(SAMPLE, context) == [names.normalize_name(name, context) for name in SAMPLE]
