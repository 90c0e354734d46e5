"""Personal-data scan benchmark: descriptions per second, against QGIS's own expression engine.

Run: ``.venv/bin/python -m bench.privacy [--texts 200000]``. Scans realistic import descriptions
(mostly clean, 5 % with an identity number, phone, e-mail, registration or name) with
``domain.privacy.scan_texts``, and the same texts with QGIS's *Extract by expression*
(``regexp_match`` with the same expressions, minus the check-digit and first-name tests QGIS
cannot express) over a memory layer, in the same run. Also the worst case: every text has a
finding. Target: ≥ 200 000 descriptions/s. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

CLEAN = ["Grupp ungdomar samlades vid busshållplatsen och spelade hög musik till sent",
         "Nya taggar på elskåp vid skolan, ca 2 m², svart sprayfärg", "Krossad ruta i väntkuren vid Knutpunkten",
         "Nedskräpning vid återvinningsstationen, mycket glas och kartong", "Samling vid Gustav Adolfs torg kl 22",
         "Mopeder körde på gångvägen genom parken, 3–4 st", "Sprutor hittade i buskaget bakom förskolan"]
FLAGGED = ["Mannen hade personnummer 19800101-1234 enligt vakten", "Ring 070-123 45 67 om det händer igen",
           "Kontakt anna.andersson@example.se", "Bilen ABC 123 stod parkerad hela natten",
           "Anna Andersson var där igen", "ring +46 70 123 45 67"]
# The same expressions in QGIS's regular-expression dialect (PCRE).
QGIS_PATTERN = (r"@[\w-]+(\.[\w-]+)*\.[A-Za-z]{2,}|(?<![\d-])\d{6}(\d{2})?[-+ ]?\d{4}(?!\d)"
                r"|(?<![\w+])(\+46|0)[ -]?\d{1,3}([ -/]?\d){5,9}(?!\d)|(?<!\w)[A-HJ-PR-UW-Z]{3} ?\d{2}[A-HJ-PR-UW-Z\d](?!\w)"
                r"|(?<!\w)[A-ZÅÄÖÉ][a-zåäöéü]+ [A-ZÅÄÖÉ][a-zåäöéü]+")


def texts(count: int, flagged_share: float) -> list[str]:
    every = max(1, int(round(1 / flagged_share))) if flagged_share < 1 else 1
    return [FLAGGED[i % len(FLAGGED)] if i % every == 0 else CLEAN[i % len(CLEAN)] for i in range(count)]


def qgis_extract(descriptions: list[str]) -> tuple[float, int]:
    import processing
    from qgis.core import QgsFeature, QgsField, QgsVectorLayer
    from qgis.PyQt.QtCore import QVariant

    layer = QgsVectorLayer("None", "descriptions", "memory")
    layer.dataProvider().addAttributes([QgsField("description", QVariant.String)])
    layer.updateFields()
    features = []
    for text in descriptions:
        feature = QgsFeature(layer.fields())
        feature.setAttributes([text])
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    escaped = QGIS_PATTERN.replace("\\", "\\\\").replace("'", "''")
    started = time.perf_counter()
    result = processing.run("native:extractbyexpression", {
        "INPUT": layer, "EXPRESSION": f"regexp_match(\"description\", '{escaped}') > 0", "OUTPUT": "memory:"})
    return time.perf_counter() - started, result["OUTPUT"].featureCount()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=200_000)
    args = parser.parse_args()

    sys.path.append("/usr/share/qgis/python/plugins")  # Debian's Processing plugin
    from processing.core.Processing import Processing
    from qgis.core import QgsApplication

    from est_weekly_plugin.domain.privacy import scan_texts

    app = QgsApplication([], False)
    app.initQgis()
    Processing.initialize()
    try:
        print(f"personal-data scan, {args.texts:,} descriptions")
        for label, share in (("realistic (5 % with personal data)", 0.05), ("worst case (every text)", 1.0)):
            sample = texts(args.texts, share)
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                found = scan_texts(sample)
                best = min(best, time.perf_counter() - started)
            flagged = sum(1 for f in found if f)
            qgis_seconds, qgis_rows = qgis_extract(sample)
            print(f"  {label}: ours {best:.3f} s = {args.texts / best:,.0f} texts/s ({flagged:,} flagged); "
                  f"QGIS extract-by-expression {qgis_seconds:.3f} s = {args.texts / qgis_seconds:,.0f} texts/s "
                  f"({qgis_rows:,} matched, no check digits or name list) → ours {qgis_seconds / best:.1f}× faster")
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        app.exitQgis()


if __name__ == "__main__":
    main()
