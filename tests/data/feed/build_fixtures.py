"""Rebuild the feed fixtures from the shared Buyandsell RSS file (see PROVENANCE.md).

Run from the repository root: python tests/data/feed/build_fixtures.py
"""

import re
from pathlib import Path

SOURCE = Path("/work/shared/data/feeds/buyandsell-active-2023-08.rss")
HERE = Path(__file__).parent
# Items (0-based, in file order): 0 an event, 2 a news item, 3 and 4 standing offers with supplier
# and GSIN rows, 7 a supply arrangement delivered in Quebec, 20 one delivered in 11 regions.
KEEP = (0, 2, 3, 4, 7, 20)


def main() -> None:
    text = SOURCE.read_text(encoding="utf-8")
    items = re.findall(r"[ \t]*<item>.*?</item>\n", text, re.S)
    head, tail = text[: text.index(items[0])], text[text.index(items[-1]) + len(items[-1]):]
    kept = [items[i] for i in KEEP]
    # 1. Real excerpt: header, 6 items and footer copied byte for byte.
    (HERE / "buyandsell-excerpt.rss").write_text(head + "".join(kept) + tail, encoding="utf-8")

    def republish(item: str, stamp: str) -> str:
        """The item as republished a week later: new timestamp in its guid and pubDate, same content."""
        guid = re.search(r"<guid[^>]*>([^<]*)</guid>", item)[1]
        new_guid = re.sub(r":\d{4}-\d\d-\d\dT[\d:]+Z$", ":" + stamp, guid)
        item = item.replace(guid, new_guid)
        return re.sub(r"<pubDate>[^<]*</pubDate>", "<pubDate>Fri, 04 Aug 2023 04:05:02 GMT</pubDate>", item)

    # 2. Derived: the same items a week later (guids and pubDates changed, nothing else).
    (HERE / "buyandsell-republished.rss").write_text(
        head + "".join(republish(i, "2023-08-04T04:05:02Z") for i in kept) + tail, encoding="utf-8")
    # 3. Derived: in one file, item 3, item 3 again under a new guid, item 4 under item 3's guid.
    guid3 = re.search(r"<guid[^>]*>([^<]*)</guid>", items[3])[1]
    guid4 = re.search(r"<guid[^>]*>([^<]*)</guid>", items[4])[1]
    (HERE / "buyandsell-duplicates.rss").write_text(
        head + items[3] + republish(items[3], "2023-08-04T04:05:02Z") + items[4].replace(guid4, guid3) + tail,
        encoding="utf-8")


if __name__ == "__main__":
    main()
