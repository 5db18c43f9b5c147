"""Rebuild package_show-seao-subset.json from the Données Québec resource index (see PROVENANCE.md).

Run from the repository root: python tests/data/ckan/build_package_show.py
"""

import json
from pathlib import Path

SRC = Path("/work/shared/data/seao-ocds/donneesquebec-resource-index-2026-02-21.json")
OUT = Path(__file__).with_name("package_show-seao-subset.json")
PACKAGE = "d23b2e02-085d-43e5-9e6e-e1d558ebfdd5"
WANTED = {  # three names republished under new ids, plus plain ones
    "hebdo_20220606_20220612.json", "hebdo_20250317_20250323.json", "hebdo_20250324_20250330.json",
    "hebdo_20260209_20260215.json", "mensuel_20250101_20250131.json", "mensuel_20250201_20250301.json",
}
# Invented, not from the index: a resource whose name matches no prefix, to test the filter.
SYNTHETIC = {
    "id": "00000000-0000-4000-8000-000000000001", "package_id": PACKAGE,
    "name": "Guide d'utilisation des données (ressource fictive pour les tests)", "format": "PDF",
    "url": "https://www.donneesquebec.ca/recherche/dataset/" + PACKAGE + "/resource/00000000-0000-4000-8000-000000000001/download/guide.pdf",
    "size": 123456, "created": "2021-05-14T19:20:00.000000", "last_modified": "2021-05-14T19:20:00.000000",
    "metadata_modified": "2021-05-14T19:20:00.000000", "mimetype": "application/pdf",
    "url_type": "upload", "state": "active",
}


def main() -> None:
    index = json.loads(SRC.read_text(encoding="utf-8"))
    resources = [SYNTHETIC]
    for r in index["ressources"]:  # index order kept
        if r["nom"] in WANTED:
            resources.append({
                "id": r["id"], "package_id": PACKAGE, "name": r["nom"], "format": r["format"],
                "url": r["url"], "size": r["taille"], "created": r["date_creation"],
                "last_modified": r["date_modification"], "metadata_modified": r["date_modification"],
                "mimetype": "application/json", "url_type": "upload", "state": "active",
            })
    for pos, r in enumerate(resources):
        r["position"] = pos
    doc = {
        "help": "https://www.donneesquebec.ca/recherche/api/3/action/help_show?name=package_show",
        "success": True,
        "result": {
            "id": PACKAGE, "name": index["dataset"], "type": "dataset", "state": "active",
            "num_resources": len(resources), "resources": resources,
        },
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
