"""Korean date and number formats (R11.2): one way everywhere, Django's admin pages included."""

DATE_FORMAT = "Y. n. j."  # 2026. 12. 1.
DATETIME_FORMAT = "Y. n. j. A g:i"  # 2026. 12. 1. 오전 11:05
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
TIME_FORMAT = "A g:i"
MONTH_DAY_FORMAT = "n월 j일"
YEAR_MONTH_FORMAT = "Y년 n월"
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
