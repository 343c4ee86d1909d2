"""Address matching to the council's gazetteer (LLPG / AddressBase-style export).

`normalise` turns an address into comparable tokens, `matcher` blocks candidates by postcode
(then sector, district or street) and scores them with rapidfuzz, declining ambiguous matches,
and `gazetteer` loads the gazetteer into the warehouse with each address's Output Area.
"""
