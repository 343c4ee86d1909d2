"""The one date rule (pipeline/dates.py): its SQL and Python readings agree, and every stage that
reads a date (age bands, trend periods) reads the same forms."""

from datetime import date

import duckdb
import pytest

from pipeline import dates
from pipeline.profiles import trends

SAMPLES = [
    "05/03/2024", "2024-03-05", "05-03-2024", "05.03.2024", "2024/03/05",
    "2024-03-05 10:11:12", "05/03/2024 10:11", "05/03/2024 10:11:12", "2024-03-05T10:11:12",
    "  05/03/2024  ", "5/3/2024", "29/02/2024", "31/12/1999",
    # near misses: no date
    "31/02/2024", "2024-13-01", "05/03/2024 10", "2024-03-05T10:11", "05 March 2024", "n/k", "",
    "2024-03-05 10:11:12.5", "05/03/24x", "2024.03.05", "tomorrow",
    "3/4/5", "01/01/202", "1/2/3 12:34", "1/1/19701", "05/03/0024",  # years of other than four digits
]


def test_sql_and_python_readings_agree():
    con = duckdb.connect()
    dates.install(con)
    for text in SAMPLES:
        sql = con.execute("SELECT insight_date(?)", [text]).fetchone()[0]
        assert sql == dates.parse(text), text
    assert con.execute("SELECT insight_date(NULL)").fetchone()[0] is None
    assert dates.parse(None) is None


def test_every_format_reads_5_march_2024():
    for text in SAMPLES[:9]:
        assert dates.parse(text) == date(2024, 3, 5), text


@pytest.mark.parametrize("period", ["year", "quarter"])
@pytest.mark.parametrize("text", ["05/03/2024 10:11:12", "05.03.2024", "2024/03/05", "2024-03-05T10:11:12"])
def test_trend_period_same_as_iso_form(text, period):
    """Forms that give a date of birth its age band put a record in the same trend period as the
    ISO form of its date (they fell into 'unknown' when trends kept its own shorter list)."""
    con = duckdb.connect()
    got, iso = (con.execute(f"SELECT {trends.period_sql(period)} FROM (SELECT ? AS date)", [t]).fetchone()[0]
                for t in (text, "2024-03-05"))
    assert got == iso != "unknown"
