"""Events from other systems (police, fire service, guards, fault reports) into the common map.

Headless (no widgets): reading with GDAL/OGR or a project layer, profiles, mapping with a report
of every problem row, and an all-or-nothing write through the store's batch insert. The wizard
(gui/importing) and the Processing algorithm (processing/import_events.py) drive it.
"""

from .engine import ImportPlan, ImportSummary, ProblemRow, import_file, prepare_import, write_import
from .profiles import ImportProfile, all_profiles, builtin_profiles, guess_profile
from .reading import SourceTable, read_layer, read_source
from .task import ImportTask

__all__ = ["ImportPlan", "ImportProfile", "ImportSummary", "ImportTask", "ProblemRow", "SourceTable",
           "all_profiles", "builtin_profiles", "guess_profile", "import_file", "prepare_import", "read_layer",
           "read_source", "write_import"]
