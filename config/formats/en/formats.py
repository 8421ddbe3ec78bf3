"""Date formats for every screen: "3 Dec 2026", and "3 Dec 2026, 14:05 EST" with a time (which
names its zone); common/wording.py writes the same in Python.

Django's English defaults ("Dec. 3, 2026") are replaced; ISO 8601 stays in CSV and files.
"""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i T"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
TIME_FORMAT = "H:i"
