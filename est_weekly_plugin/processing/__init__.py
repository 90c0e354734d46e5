"""Processing: the "EST Weekly" provider and its algorithms (Modeler, Toolbox, ``qgis_process``)."""
