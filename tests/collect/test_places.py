"""Places → the agreed region vocabulary: every CanadaBuys region label seen in the real sample
(/work/shared/data/canadabuys, 40 rows), OCDS addresses (postal codes, cities, countries)."""

from __future__ import annotations

import pytest

from watcher.collect import places

# Every label of regionsOfDelivery / regionsOfOpportunity in the 40 real rows, in both languages.
CANADABUYS = [
    ("Canada", ("CA",)), ("Quebec (except NCR)", ("QC",)), ("Québec (sauf RCN)", ("QC",)),
    ("National Capital Region (NCR)", ("07", "CA-ON")), ("Région de la capitale nationale (RCN)", ("07", "CA-ON")),
    ("Ontario (except NCR)", ("CA-ON",)), ("Ontario (sauf RCN)", ("CA-ON",)), ("Alberta", ("CA-AB",)),
    ("British Columbia", ("CA-BC",)), ("Colombie-Britannique", ("CA-BC",)), ("Manitoba", ("CA-MB",)),
    ("New Brunswick", ("CA-NB",)), ("Nouveau-Brunswick", ("CA-NB",)), ("Newfoundland and Labrador", ("CA-NL",)),
    ("Terre-Neuve-et-Labrador", ("CA-NL",)), ("Nova Scotia", ("CA-NS",)), ("Nouvelle-Écosse", ("CA-NS",)),
    ("Northwest Territories", ("CA-NT",)), ("Territoires du Nord-Ouest", ("CA-NT",)), ("Nunavut Territory", ("CA-NU",)),
    ("Territoire du Nunavut", ("CA-NU",)), ("Prince Edward Island", ("CA-PE",)), ("Île-du-Prince-Édouard", ("CA-PE",)),
    ("Saskatchewan", ("CA-SK",)), ("Yukon", ("CA-YT",)), ("Foreign", ("ZZ",)), ("À l'étranger", ("ZZ",)),
    ("World", ("CA", "ZZ")), ("Monde", ("CA", "ZZ")), ("Unspecified", ()), ("Non spécifiée", ()),
    ("Montréal", ("06",)), ("Edmonton", ("CA-AB",)), ("Regina", ("CA-SK",)),
]


@pytest.mark.parametrize("label,codes", CANADABUYS, ids=[c[0] for c in CANADABUYS])
def test_canadabuys_labels(label, codes):
    assert places.canadabuys_regions([label]) == (codes, [])


def test_unknown_label_is_reported_not_guessed():
    assert places.canadabuys_regions(["Atlantis", "Yukon"]) == (("CA-YT",), ["Atlantis"])


ADDRESSES = [
    ({"locality": "Longueuil", "region": "QC", "postalCode": "J4K 1A1", "countryName": "Canada"}, ("16",)),
    ({"locality": "Rimouski", "postalCode": "G5L 3A1"}, ("01",)),  # city table
    ({"postalCode": "H7N 5H9"}, ("13",)),  # Laval by its postal prefix
    ({"postalCode": "H2X1Y4"}, ("06",)),
    ({"locality": "Saint-Ours", "postalCode": "J0G 1P0"}, ()),  # in Québec, region not known: not widened to QC
    ({"locality": "Ottawa", "postalCode": "K1A 0S5"}, ("CA-ON",)),
    ({"postalCode": "T5J 0N3"}, ("CA-AB",)),
    ({"region": "Montérégie"}, ("16",)),
    ({"region": "06 - Montréal"}, ("06",)),
    ({"locality": "London", "region": "London", "postalCode": "SW1A 2AA", "countryName": "United Kingdom"}, ("GB",)),
    ({"locality": "London", "postalCode": "N6A 3K7"}, ("CA-ON",)),  # the Ontario one, by its postal code
    ({"locality": "Bogotá", "countryName": "Colombia"}, ("CO",)),
    ({"locality": "Ciudad de México", "countryName": "México"}, ("MX",)),
    ({"region": "11"}, ()),  # a bare number outside Canada is not a Québec region
    ({"locality": "Quelque part"}, ()),
]


@pytest.mark.parametrize("address,codes", ADDRESSES, ids=[str(a) for a, _ in ADDRESSES])
def test_addresses(address, codes):
    assert places.address_regions(address) == codes


@pytest.mark.parametrize("text,codes", [("Montréal", ("06",)), ("Laurentides (15)", ("15",)), ("Nova Scotia", ("CA-NS",)),
                                         ("Paraguay", ("PY",)), ("Canada", ("CA",)), ("Chez nous", ()),
                                         ("Québec", ("QC",)), ("Ville de Québec", ("03",))])
def test_free_text_places(text, codes):
    assert places.place_regions(text) == codes


@pytest.mark.parametrize("code,fr,en", [("06", "Montréal", "Montréal"), ("QC", "tout le Québec", "all of Québec"),
                                        ("CA", "tout le Canada", "all of Canada"), ("CA-BC", "Colombie-Britannique", "British Columbia"),
                                        ("ZZ", "hors Canada", "outside Canada"), ("GB", "United Kingdom", "United Kingdom")])
def test_labels_for_readers(code, fr, en):
    assert (places.label(code, "fr"), places.label(code, "en")) == (fr, en)
