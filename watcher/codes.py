"""Reference code tables (Québec regions, SEAO categories and notice types). Pure data."""

from __future__ import annotations

# Québec administrative regions, official codes (Institut de la statistique du Québec).
# SEAO XML since 2014 uses these codes in <regionlivraison> (unpadded: "6" = Montréal).
REGIONS: dict[str, str] = {
    "01": "Bas-Saint-Laurent",
    "02": "Saguenay–Lac-Saint-Jean",
    "03": "Capitale-Nationale",
    "04": "Mauricie",
    "05": "Estrie",
    "06": "Montréal",
    "07": "Outaouais",
    "08": "Abitibi-Témiscamingue",
    "09": "Côte-Nord",
    "10": "Nord-du-Québec",
    "11": "Gaspésie–Îles-de-la-Madeleine",
    "12": "Chaudière-Appalaches",
    "13": "Laval",
    "14": "Lanaudière",
    "15": "Laurentides",
    "16": "Montérégie",
    "17": "Centre-du-Québec",
}

# The 2013 SEAO XML specification numbers regions its own way (its table: 11 Nord-du-Québec,
# 14 Laurentides, 15 Montérégie, 16 Lanaudière, 18 Gaspésie, 19 Hors Québec; no 10).
# Mapped here to the official codes; "19" (outside Québec) has no region.
REGIONS_2013: dict[str, str | None] = {
    **{str(i): f"{i:02d}" for i in range(1, 10)},
    "11": "10",
    "12": "12",
    "13": "13",
    "14": "15",
    "15": "16",
    "16": "14",
    "17": "17",
    "18": "11",
    "19": None,
}

# SEAO categories (codes and French labels), as observed in SEAO XML 2018-2021
# (shared/data/seao-xml/categories-observed-2018-2021.txt).
CATEGORIES: dict[str, str] = {
    "C01": "Bâtiments",
    "C02": "Ouvrages de génie civil",
    "C03": "Autres travaux de construction",
    "CON1": "Concession",
    "G2": "Matériel de climatisation et de réfrigération",
    "G3": "Armement",
    "G4": "Produits et spécialités chimiques",
    "G5": "Communication, détection et fibres optiques",
    "G6": "Matériaux de construction",
    "G7": "Cosmétiques et articles de toilette",
    "G8": "Matériel et logiciel informatique",
    "G9": "Entretien d'équipement de bureau et d'informatique",
    "G10": "Produits électriques et électroniques",
    "G11": "Énergie",
    "G12": "Moteurs, turbines, composants et accessoires connexes",
    "G13": "Produits finis",
    "G14": "Équipement de lutte contre l'incendie, de sécurité et de protection",
    "G15": "Alimentation",
    "G16": "Préparation alimentaire et équipement de service",
    "G17": "Ameublement",
    "G18": "Équipement industriel",
    "G19": "Machinerie et outils",
    "G20": "Marine",
    "G21": "Fourniture et équipement médicaux et produits pharmaceutiques",
    "G22": "Produits divers",
    "G23": "Matériel de bureau",
    "G24": "Papeterie et fournitures de bureau",
    "G25": "Constructions préfabriqués",
    "G26": "Publications, formulaires et articles en papier",
    "G27": "Instruments scientifiques",
    "G28": "Véhicules spéciaux",
    "G29": "Intégration de systèmes",
    "G30": "Textiles et vêtements",
    "G31": "Équipement de transport et pièces de rechange",
    "IMM1": "Vente de biens immeubles",
    "O1": "Indéterminé",
    "S1": "Recherche et développement (R et D)",
    "S2": "Études spéciales et analyses - (pas R et D)",
    "S3": "Services d'architecture et d'ingénierie",
    "S4": "Traitement de l'information et services de télécommunications connexes",
    "S5": "Services environnementaux",
    "S6": "Services de ressources naturelles",
    "S7": "Services de santé et services sociaux",
    "S8": "Contrôle de la qualité, essais et inspections et services de représentants techniques",
    "S9": "Entretien, réparation, modification, réfection et installation de biens et d'équipement",
    "S10": "Services de garde et autres services connexes",
    "S11": "Services financiers et autres services connexes",
    "S12": "Exploitation des installations gouvernementales",
    "S13": "Services de soutien professionnel et administratif et services de soutien à la gestion",
    "S14": "Services publics",
    "S15": "Services de communication, de photographie, de cartographie, d'impression et de publication",
    "S16": "Services pédagogiques et formation",
    "S17": "Services de transport, de voyage et de déménagement",
    "S18": "Location à bail / Location d'équipement",
    "S19": "Location à bail ou location d'installations immobilières",
}

# The same categories in English (the federal GSIN wording SEAO's list follows), for English digests.
CATEGORIES_EN: dict[str, str] = {
    "C01": "Buildings",
    "C02": "Civil engineering works",
    "C03": "Other construction work",
    "CON1": "Concession",
    "G2": "Air conditioning and refrigeration equipment",
    "G3": "Armament",
    "G4": "Chemicals and chemical specialties",
    "G5": "Communications, detection and fibre optics",
    "G6": "Construction materials",
    "G7": "Cosmetics and toiletries",
    "G8": "Computer hardware and software",
    "G9": "Office and computer equipment maintenance",
    "G10": "Electrical and electronic products",
    "G11": "Energy",
    "G12": "Engines, turbines, components and related accessories",
    "G13": "Finished products",
    "G14": "Fire fighting, security and safety equipment",
    "G15": "Food",
    "G16": "Food preparation and serving equipment",
    "G17": "Furniture",
    "G18": "Industrial equipment",
    "G19": "Machinery and tools",
    "G20": "Marine",
    "G21": "Medical equipment and supplies and pharmaceuticals",
    "G22": "Miscellaneous goods",
    "G23": "Office equipment",
    "G24": "Office stationery and supplies",
    "G25": "Prefabricated structures",
    "G26": "Publications, forms and paper products",
    "G27": "Scientific instruments",
    "G28": "Special purpose vehicles",
    "G29": "Systems integration",
    "G30": "Textiles and apparel",
    "G31": "Transportation equipment and spares",
    "IMM1": "Sale of real property",
    "O1": "Undetermined",
    "S1": "Research and development (R&D)",
    "S2": "Special studies and analysis (not R&D)",
    "S3": "Architect and engineering services",
    "S4": "Information processing and related telecommunications services",
    "S5": "Environmental services",
    "S6": "Natural resources services",
    "S7": "Health and social services",
    "S8": "Quality control, testing, inspection and technical representative services",
    "S9": "Maintenance, repair, modification, rebuilding and installation of goods and equipment",
    "S10": "Custodial operations and related services",
    "S11": "Financial and related services",
    "S12": "Operation of government-owned facilities",
    "S13": "Professional, administrative and management support services",
    "S14": "Utilities",
    "S15": "Communications, photographic, mapping, printing and publication services",
    "S16": "Educational and training services",
    "S17": "Transportation, travel and relocation services",
    "S18": "Lease or rental of equipment",
    "S19": "Lease or rental of facilities",
}

# SEAO XML <type> codes -> (label, procurement method). 3, 9, 10 and 14 are in the 2013
# specification; the 2014 specification's code tables are images. 11, 16 and 17 are read
# from the data: 11 has several bidders and no SEAO closing date (public tender not run on
# SEAO), 16 and 17 are single-supplier call-offs (contracts "à exécution sur demande").
SEAO_TYPES: dict[str, tuple[str, str]] = {
    "3": ("Contrat adjugé suite à un appel d'offres public", "public"),
    "9": ("Contrat octroyé de gré à gré", "gre_a_gre"),
    "10": ("Contrat adjugé suite à un appel d'offres sur invitation", "invitation"),
    "11": ("Contrat adjugé suite à un appel d'offres public non publié au SEAO", "public"),
    "14": ("Contrat adjugé suite à un appel d'offres sur invitation publié au SEAO", "invitation"),
    "16": ("Contrat conclu à la suite d'un contrat à exécution sur demande", "other"),
    "17": ("Contrat conclu — autre mode", "other"),
}

# SEAO notice types published after a contract was given without a call anyone could answer on
# SEAO (direct award, invitation sent privately, call not published on SEAO, order under an
# existing contract): history and buyer leads, never an opportunity to bid on.
SEAO_AWARDED_WITHOUT_CALL = frozenset({"9", "10", "11", "16", "17"})


def awarded_without_call(notice_type: str, source: str) -> bool:
    """True for a SEAO notice whose type says it was awarded without a call published on SEAO."""
    return source == "seao" and notice_type.split(" - ", 1)[0].strip() in SEAO_AWARDED_WITHOUT_CALL


# SEAO XML <nature> codes (2013 specification) -> our natures.
SEAO_NATURES: dict[str, str] = {
    "1": "goods",
    "2": "services",
    "3": "construction",
    "5": "other",
    "6": "other",  # concession
    "7": "other",  # sale of real property
    "8": "other",  # sale of movable property
}

# Their French labels (2013 specification), and those of <precision> for services: used to build a
# title for the notices of files that have none.
SEAO_NATURE_LABELS: dict[str, str] = {
    "1": "Approvisionnement (biens)", "2": "Services", "3": "Travaux de construction", "5": "Autre",
    "6": "Concession", "7": "Vente de biens immeubles", "8": "Vente de biens meubles",
}
SEAO_PRECISION_LABELS: dict[str, str] = {"1": "Services professionnels", "2": "Services de nature technique"}

METHOD_LABELS: dict[str, dict[str, str]] = {
    "gre_a_gre": {"fr": "gré à gré", "en": "mutual agreement"},
    "invitation": {"fr": "appel d'offres sur invitation", "en": "invitation to tender"},
    "public": {"fr": "appel d'offres public", "en": "public tender"},
    "other": {"fr": "autre mode", "en": "other method"},
}


def category_code(value: str) -> str | None:
    """'S9 - Entretien, ...' -> 'S9'; None for an empty value."""
    code = value.split(" - ", 1)[0].strip().upper()
    return code or None
