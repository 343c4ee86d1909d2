"""Council insight pipeline: geocode service records, segment Output Areas, profile take-up."""

import logging

__version__ = "0.1.0"

logger = logging.getLogger("pipeline")
logger.addHandler(logging.NullHandler())
