"""*Density raster (week)* (``est_weekly:densityraster``): the week's events as a kernel density GeoTIFF."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProcessingParameterRasterDestination

from ..analysis.density import density_grid
from ..domain.i18n import tr
from .base import EstAlgorithm, metres


class DensityRaster(EstAlgorithm):
    RADIUS = "RADIUS"
    PIXEL = "PIXEL_SIZE"
    OUTPUT = "OUTPUT"

    def name(self) -> str:
        return "densityraster"

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:  # noqa: N802
        self._add_common()
        self.addParameter(metres(self.RADIUS, tr("processing.densityraster.radius"), 200.0, 10.0))
        self.addParameter(metres(self.PIXEL, tr("processing.densityraster.pixel_size"), 10.0, 1.0))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("processing.densityraster.output")))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,  # noqa: N802
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        store = self._open(parameters, context)
        try:
            _week, selected = self._week_columns(store, parameters, context, feedback)
            extent = store.settings.extent
            epsg = store.settings.epsg
        finally:
            store.close()
        radius = self.parameterAsDouble(parameters, self.RADIUS, context)
        pixel = self.parameterAsDouble(parameters, self.PIXEL, context)
        feedback.setProgress(40)
        selected = selected.placed()  # area events never enter the heat map
        grid = density_grid(selected.x, selected.y, pixel_size=pixel, radius=radius,
                            extent=None if len(selected) else (extent.xmin, extent.ymin, extent.xmax, extent.ymax))
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        grid.to_geotiff(output, epsg)
        feedback.setProgress(100)
        return {self.OUTPUT: output}
