"""Address matching: normalisation, the number rule, exact and fuzzy matches, declined ties."""

import pandas as pd
import pytest

from pipeline.address.matcher import GazetteerIndex
from pipeline.address.normalise import postcode_blocks, split_numbers, tokens

GAZ = pd.DataFrame(
    [
        ("1", "", "5", "Silver Drive", "Northwood", "Demoborough", "DM3 1HQ"),
        ("2", "Flat 1", "7", "Silver Drive", "Northwood", "Demoborough", "DM3 1HQ"),
        ("3", "Flat 2", "7", "Silver Drive", "Northwood", "Demoborough", "DM3 1HQ"),
        ("4", "", "Meadow Barn", "Alder Way", "Bramley Park", "Demoborough", "DM4 1HU"),
        ("5", "Flat 2", "4", "Lime Walk", "St Anne's", "Demoborough", "DM6 4XJ"),
        ("6", "Flat 4", "2", "Lime Walk", "St Anne's", "Demoborough", "DM6 4XJ"),
        ("7", "", "7", "Birch Street", "St Anne's", "Demoborough", "DM1 2AB"),
        ("8", "Flat 5", "Maple Heights", "Maple Gardens", "St Anne's", "Demoborough", "DM1 4PG"),
        ("9", "Flat 5", "Maple Heights", "Maple Gardens", "St Anne's", "Demoborough", "DM1 4QG"),
        ("10", "", "12", "Ashworth Road", "Greystone", "Demoborough", "DM2 5AB"),
    ],
    columns=["uprn", "saon", "paon", "street", "locality", "town", "postcode"],
)


@pytest.fixture(scope="module")
def index():
    return GazetteerIndex(GAZ, min_score=85, min_margin=5)


def test_tokens_expand_abbreviations_and_split_glued_numbers():
    assert tokens("Flat8 , 14 Birch Dr.") == ["FLAT", "8", "14", "BIRCH", "DRIVE"]
    assert tokens(" 6Grafton Terr") == ["6", "GRAFTON", "TERRACE"]
    assert tokens("5A Oak Rd") == ["5A", "OAK", "ROAD"]
    assert tokens("St Anne's") == ["STREET", "ANNES"]


def test_numbers_keep_their_role():
    assert split_numbers(tokens("Flat 2, 4 Lime Walk"))[0] != split_numbers(tokens("Flat 4, 2 Lime Walk"))[0]
    assert split_numbers(tokens("4 Lime Walk, Flat 2"))[0] == split_numbers(tokens("Flat 2, 4 Lime Walk"))[0]


def test_postcode_blocks_read_damaged_postcodes():
    assert postcode_blocks("DM4 7QX") == ("DM4 7", "DM4")
    assert postcode_blocks("dm4 7") == ("DM4 7", "DM4")
    assert postcode_blocks("DM47Q") == ("DM4 7", "DM4")
    assert postcode_blocks("DM4") == (None, "DM4")
    assert postcode_blocks("12345") == (None, None)


def test_exact_and_fuzzy(index):
    m = index.match("flat 2, 4 lime walk, St Anne's", "DM6 4XJ", widen=False)
    assert (m.uprn, m.level) == ("5", "address_exact")
    m = index.match("7 Birch St, St Anne's, Demoborough", "DM1 2AB", widen=False)
    assert (m.uprn, m.level) == ("7", "address_exact")  # STREET of the locality is not the street's
    m = index.match("Meadow Barn, Aldre Way", "DM4 1HU", widen=False)
    assert (m.uprn, m.level) == ("4", "address_fuzzy") and 85 <= m.score < 100


def test_declines_what_it_cannot_tell(index):
    assert index.match("7 Silver Drive", "DM3 1HQ", widen=True) is None  # flat number missing
    assert index.match("Alder Way", "DM4 1HU", widen=True) is None  # no house named
    assert index.match("9 Silver Drive", "DM3 1HQ", widen=True) is None  # number not in gazetteer
    assert index.match("Rose Cottage, Alder Way", "DM4 1HU", widen=True) is None  # name not in gazetteer
    # the same address at two postcodes and no postcode to tell them apart
    assert index.match("Flat 5, Maple Heights, Maple Gardens", "", widen=True) is None
    assert index.match("Flat 5, Maple Heights, Maple Gardens", "DM1 4PG", widen=False).uprn == "8"


def test_widen_when_the_postcode_is_untrusted_or_its_block_lacks_the_address(index):
    # a live postcode whose block has no entry with the record's number and street: a wrong postcode
    assert index.match("12 Ashworth Road", "DM2 5ZZ", widen=False).uprn == "10"
    # a live postcode whose block holds the record's number and street: no widening, so
    # "7 Silver Drive" (its flat number missing) is declined
    assert index.match("7 Silver Drive", "DM3 1HQ", widen=False) is None
    assert index.match("5 Silver Drive", "DM1 2AB", widen=False).uprn == "1"  # DM1 2AB: no 5 Silver Drive
    assert index.match("7 Birch Street", "DM3 1HQ", widen=False).uprn == "7"  # no 7 Birch Street there
    assert index.match("12 Ashworth Road", "DM2 5ZZ", widen=True).uprn == "10"  # same sector
    assert index.match("12 Ashworth Road, Greystone", "", widen=True).uprn == "10"  # street found
