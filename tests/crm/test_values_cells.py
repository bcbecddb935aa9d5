"""R2.13a: a spreadsheet's native cells in a text key are the text the cell shows."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from crm.values import parse_string


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (1001, "1001"),
        (1001.0, "1001"),  # never "1001.0"
        (0.1 + 0.2, "0.3"),  # Excel shows 15 significant digits
        (-12.5, "-12.5"),
        (1e20, "100000000000000000000"),  # no exponent
        (1.5e-7, "0.00000015"),
        (-0.0, "0"),
        (True, "TRUE"),
        (date(2025, 5, 4), "2025-05-04"),
        (datetime(2025, 5, 4), "2025-05-04"),  # an Excel date cell: midnight, no zone
        (datetime(2025, 5, 4, 9, 30), "2025-05-04 09:30:00"),
    ],
)
def test_r2_13a_native_cells_become_the_text_they_show(cell: object, text: str) -> None:
    assert parse_string(cell) == text
