"""English date and number formats (R11.2): one way everywhere, Django's admin pages included."""

DATE_FORMAT = "M j, Y"  # Dec 1, 2026
DATETIME_FORMAT = "M j, Y, g:i A"  # Dec 1, 2026, 11:05 AM
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
TIME_FORMAT = "g:i A"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
