"""Stage 6, publish: one step turns the run's unsuppressed tables into the published set.

Compute (profiles, quality) -> publish -> render: render reads only a :class:`Publication`
(see :mod:`pipeline.publish.stage`); the unsuppressed tables stay in data/<run>/.
"""

from pipeline.publish.stage import publish, write_private
from pipeline.publish.tables import Publication, PublishedTable

__all__ = ["Publication", "PublishedTable", "publish", "write_private"]
