"""The code location: every definition found in `sqlflow_assets/defs/` (Dagster's defs-folder convention).

A module added under `defs/` (by hand or with `dg scaffold defs ...`) is loaded with no edit here.
"""

from pathlib import Path

import dagster as dg

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
