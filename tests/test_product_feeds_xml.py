"""Google Merchant's XML feeds (issue 17): RSS 2.0 and Atom with the g: namespace, read streaming; malformed XML
named by line; entities refused (no billion laughs, no XXE); a g: prefix in another namespace refused."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from etl.errors import EtlError
from etl.pipeline.importer import run_import
from etl.spec import validate_spec

G = 'xmlns:g="http://base.google.com/ns/1.0"'


def xml_import(tmp_path: Path, text: str, name: str = "feed.xml", **options) -> dict:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    spec = {"format": "google_merchant", "source": str(source), **({"options": options} if options else {})}
    return run_import(validate_spec(spec, "spec"), tmp_path / "s.duckdb")


def stored(tmp_path: Path) -> dict[str, dict]:
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT product_id, name, description, link, category, price, currency, availability, "
                           "attributes FROM products ORDER BY product_id").fetchall()  # fmt: skip
    return {r[0]: {"name": r[1], "description": r[2], "link": r[3], "category": r[4], "price": r[5],
                   "currency": r[6], "availability": r[7], "attributes": json.loads(r[8])} for r in rows}  # fmt: skip


RSS = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" {G} xmlns:c="http://example.com/custom">
  <channel>
    <title>The shop</title>
    <item>
      <g:id>x1</g:id>
      <title>Knife &amp; fork</title>
      <link>https://shop.example/x1</link>
      <description><![CDATA[<p>Sharp</p>]]></description>
      <g:price>12.50 EUR</g:price>
      <g:availability>in stock</g:availability>
      <g:product_type>Home &gt; Kitchen</g:product_type>
      <g:product_type>Sale</g:product_type>
      <g:shipping><g:country>DE</g:country><g:price>4.95 EUR</g:price></g:shipping>
      <!-- a comment is no field -->
      <c:stock>5</c:stock>
    </item>
    <item>
      <g:id>x2</g:id>
      <g:price>abc</g:price>
    </item>
  </channel>
</rss>
"""


def test_an_rss_feed_s_items_become_products_and_its_rejects_name_their_line(tmp_path):
    report = xml_import(tmp_path, RSS)

    assert (report["items"], report["valid"], report["rejected"]) == (2, 1, 1)
    assert stored(tmp_path) == {"x1": {
        "name": "Knife & fork", "description": "<p>Sharp</p>", "link": "https://shop.example/x1",
        "category": "Home > Kitchen", "price": 12.5, "currency": "EUR", "availability": "in_stock",
        "attributes": {"shipping": {"country": "DE", "price": "4.95 EUR"}, "c:stock": "5"},
    }}  # fmt: skip
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        assert con.execute("SELECT line, record FROM rejects").fetchall() == [(18, 2)]


def test_an_atom_feed_is_read_with_its_links_and_summaries(tmp_path):
    xml_import(tmp_path, f"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" {G}>
  <title>Shop</title>
  <entry>
    <id>tag:shop.example,2024:a1</id>
    <g:id>a1</g:id><title>Lamp</title><link href="https://shop.example/a1"/><summary>Bright</summary>
    <g:price>20 GBP</g:price>
  </entry>
</feed>""")  # fmt: skip
    assert stored(tmp_path)["a1"] == {
        "name": "Lamp", "description": "Bright", "link": "https://shop.example/a1", "category": None, "price": 20.0,
        "currency": "GBP", "availability": None, "attributes": {"atom:id": "tag:shop.example,2024:a1"},
    }  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), [
    (f'<rss {G}><channel><item><g:id>1</g:id></item><item><g:id>2</g:price></item></channel></rss>',
     r"feed.xml: line 1, column \d+: malformed XML: Opening and ending tag mismatch"),
    (f'<rss {G}><channel>\n<item><g:id>1</g:id>\n<title>&nbsp;</title></item></channel></rss>',
     r"feed.xml: line 3, column \d+: malformed XML: Entity 'nbsp' not defined"),
    ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol2 "&lol;&lol;&lol;&lol;">\n]>\n'
     f'<rss {G}><channel><item><g:id>1</g:id><title>&lol2;</title></item></channel></rss>',
     r"feed.xml: line 3: the feed declares entities \(<!ENTITY \.\.\.>\), which are refused"),
    ('<rss xmlns:g="http://example.com/not-google"><channel><item><g:id>1</g:id></item></channel></rss>',
     r"line 1: the prefix g: is bound to 'http://example.com/not-google', not Google's namespace"),
    ('<rss xmlns:x="http://example.com/other"><channel><item>\n<x:id>1</x:id><x:price>1 EUR</x:price></item>'
     "</channel></rss>", r"line 2: the item's id is <x:id> in namespace 'http://example.com/other', not Google's"),
    ("<products><product><id>1</id></product></products>",
     r"line 1: the root element is <products>, expected an RSS 2.0 feed"),
])  # fmt: skip
def test_bad_xml_fails_the_import_naming_the_line(tmp_path, text, expected):
    with pytest.raises(EtlError, match=expected):
        xml_import(tmp_path, text)
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM products").fetchall() == [(0,)]


def test_an_external_entity_or_dtd_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY leak SYSTEM "file://{secret}">')
    with pytest.raises(EtlError, match="Entity 'leak' not defined"):  # the DTD is not loaded: leak is unknown
        xml_import(
            tmp_path,
            f'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "file://{dtd}">\n'
            f"<rss {G}><channel><item><g:id>1</g:id><title>&leak;</title></item></channel></rss>",
        )
    with pytest.raises(EtlError, match="declares entities"):
        xml_import(
            tmp_path,
            f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY leak SYSTEM "file://{secret}">]>\n'
            f"<rss {G}><channel><item><g:id>1</g:id><title>&leak;</title></item></channel></rss>",
        )
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        assert "TOP SECRET" not in json.dumps(con.execute("SELECT report FROM imports").fetchall())


def test_a_big_description_and_many_items_stream_through(tmp_path):
    description = "x" * (50 * 1024 * 1024)
    items = "".join(f"<item><g:id>{n}</g:id><g:price>{n}.00 EUR</g:price></item>" for n in range(25_000))
    report = xml_import(tmp_path, f"<rss {G}><channel><item><g:id>big</g:id><description>{description}</description>"
                                  f"</item>{items}</channel></rss>")  # fmt: skip
    assert report["entities"]["products"]["added"] == 25_001
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        assert con.execute("SELECT length(description) FROM products WHERE product_id = 'big'").fetchall() == [
            (len(description),)
        ]


def test_naughty_strings_come_through_an_xml_feed_exactly(tmp_path):
    from xml.sax.saxutils import escape

    strings = json.loads((Path(__file__).resolve().parents[2] / "shared" / "data" / "blns" / "blns.json").read_text())

    # XML 1.0 cannot hold most control characters nor U+FFFE/U+FFFF at all, reads a carriage return as a line
    # feed, and an item's text is trimmed (as Google trims it)
    def xml_char(c: str) -> bool:
        return c in "\t\n" or 0x20 <= ord(c) <= 0xD7FF or 0xE000 <= ord(c) <= 0xFFFD or ord(c) >= 0x10000

    legal = [s for s in strings if s and s.strip() == s and all(xml_char(c) for c in s)]
    items = "".join(f"<item><g:id>n{n}</g:id><title>{escape(s)}</title></item>" for n, s in enumerate(legal))
    report = xml_import(tmp_path, f"<rss {G}><channel>{items}</channel></rss>")
    assert report["rejected"] == 0
    names = {k: v["name"] for k, v in stored(tmp_path).items()}
    assert [names[f"n{n}"] for n in range(len(legal))] == legal
