"""Open-data geodemographic classification of Census 2021 Output Areas."""
