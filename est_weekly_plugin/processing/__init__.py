"""Processing: the "EST Weekly" provider (provider.py) and its algorithms, one per module, on a shared base
(base.py) — for the Modeler, the Toolbox and ``qgis_process``."""
