"""A labelled corpus of CSV exports in the code pages shops' tools write (issue 14): Kevel
order files whose product names, brands and cities are in one language, encoded in one codec.

Generated, not stored: `corpus()` yields (label, bytes, text) with the exact text the bytes
encode, so that a detector is right when decoding the bytes with its answer gives the text.
Files of 1, 3, 20, 200 and 10,000 rows; "ascii" files are mostly English with a native word
now and then (a long export with a few accented names), "native" files are mostly native words.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

# Words a shop's export holds: product names, brands, cities. Each list uses the letters that
# tell its language's code pages apart (і ї є ґ for Ukrainian, ş ğ ı for Turkish ...).
WORDS: dict[str, list[str]] = {
    "ukrainian": "Чайник електричний Ґудзик їжак Євген подушка рушник Київ Львів Харків яблуко сонячний "
    "зелений чорний шкіряний дитячий іграшка кухонний ґанок м'ясорубка".split(),
    "russian": "Чайник электрический подушка полотенце Москва Санкт-Петербург яблоко солнечный зелёный "
    "чёрный кожаный детский игрушка кухонный мясорубка щётка объектив съёмка".split(),
    "bulgarian": "Чайник електрически възглавница кърпа София Пловдив ябълка слънчев зелен черен кожен "
    "детски играчка кухненски щъркел ъгъл".split(),
    "german": "Wasserkocher Küche Größe Straße München Düsseldorf Schlüssel Bürste Löffel Äpfel "
    "Übergröße weiß grün Fußball Kühlschrank Öl".split(),
    "french": "Bouilloire électrique théière Crème brûlée château garçon Noël été où forêt cœur "
    "Besançon bébé fenêtre déjà".split(),
    "spanish": "Hervidor eléctrico niño España Málaga cañón corazón jamón pequeño mañana "
    "almohada lápiz camión árbol".split(),
    "italian": "Bollitore elettrico caffè città perché Però più Forlì tè giù virtù cucina lunedì università".split(),
    "portuguese": "Chaleira elétrica São Paulo coração ação pão maçã avó órgão Açores lençol João informação".split(),
    "dutch": "Waterkoker elektrisch ijsje café Curaçao één twee coördinaat financiële "
    "België reünie geïnteresseerd".split(),
    "swedish": "Vattenkokare elektrisk Göteborg Malmö Västerås kök smörgås sjö äpple björk örngott fåtölj".split(),
    "polish": "Czajnik elektryczny Łódź Kraków Gdańsk źródło żółty ręcznik łóżko świeca poduszka pąk gęś".split(),
    "czech": "Rychlovarná konvice Plzeň Brno Ústí žluťoučký kůň čaj řeka štětec ručník postel Děčín".split(),
    "hungarian": "Vízforraló elektromos Győr Pécs Szeged tükör ülés őszibarack fűtés törölköző párna Kőbánya".split(),
    "romanian": "Fierbător electric Braşov Timişoara Iaşi ţară pâine încălţăminte măr prosop pernă şosea".split(),
    "turkish": "Su ısıtıcısı elektrikli İstanbul İzmir Muğla çay şişe ğüzel ılık yastık havlu Göçmen Şeker".split(),
    "greek": "Βραστήρας ηλεκτρικός Αθήνα Θεσσαλονίκη πετσέτα μαξιλάρι ψωμί ζάχαρη καφές Ηράκλειο παιχνίδι".split(),
    "lithuanian": "Virdulys elektrinis Vilnius Kaunas Šiauliai Klaipėda rankšluostis pagalvė "
    "žąsis ąžuolas čiužinys ūkis".split(),
    # Beyond Europe, so that the candidate code pages are not tuned to European text alone.
    "japanese": "電気ケトル 枕 タオル 東京 大阪 京都 りんご 緑色 黒 革製 子供用 "
    "おもちゃ 台所 ミキサー 掃除機 コーヒー".split(),
    "chinese": "电热水壶 枕头 毛巾 北京 上海 广州 苹果 绿色 黑色 皮革 儿童 玩具 厨房 咖啡 茶叶 手机壳".split(),
    "taiwanese": "電熱水壺 枕頭 毛巾 臺北 高雄 臺中 蘋果 綠色 黑色 皮革 兒童 玩具 廚房 咖啡 茶葉 手機殼".split(),
    "korean": "전기주전자 베개 수건 서울 부산 인천 사과 녹색 검은색 가죽 어린이 장난감 주방 커피 녹차".split(),
    "arabic": "غلاية كهربائية وسادة منشفة القاهرة الرياض دبي تفاح أخضر أسود جلد أطفال لعبة مطبخ قهوة".split(),
    "hebrew": "קומקום חשמלי כרית מגבת תל אביב ירושלים חיפה תפוח ירוק שחור עור ילדים צעצוע מטבח קפה".split(),
    "thai": "กาต้มน้ำไฟฟ้า หมอน ผ้าเช็ดตัว กรุงเทพ เชียงใหม่ ภูเก็ต แอปเปิ้ล สีเขียว สีดำ หนัง เด็ก ของเล่น ห้องครัว กาแฟ".split(),
}

# The code pages each language's tools write, besides UTF-8 with and without a BOM.
CODEPAGES: dict[str, list[str]] = {
    "ukrainian": ["cp1251", "koi8_u", "cp1125", "mac_cyrillic"],  # cp1125: Ukrainian DOS (cp866 lacks і, ґ)
    "russian": ["cp1251", "koi8_r", "cp866", "iso8859_5", "mac_cyrillic"],
    "bulgarian": ["cp1251", "iso8859_5"],
    "german": ["cp1252", "iso8859_15", "cp850", "mac_roman"],
    "french": ["cp1252", "iso8859_15", "mac_roman"],  # cp850 lacks œ
    "spanish": ["cp1252", "iso8859_1", "cp850"],
    "italian": ["cp1252", "iso8859_1"],
    "portuguese": ["cp1252", "iso8859_1", "cp850"],
    "dutch": ["cp1252", "iso8859_1"],
    "swedish": ["cp1252", "iso8859_1"],
    "polish": ["cp1250", "iso8859_2", "cp852"],
    "czech": ["cp1250", "iso8859_2", "cp852"],
    "hungarian": ["cp1250", "iso8859_2"],
    "romanian": ["cp1250", "iso8859_2"],
    "turkish": ["cp1254", "iso8859_9"],
    "greek": ["cp1253", "iso8859_7"],
    "lithuanian": ["cp1257", "iso8859_13"],
    "japanese": ["cp932", "euc_jp"],
    "chinese": ["gbk"],
    "taiwanese": ["big5"],
    "korean": ["cp949"],
    "arabic": ["cp1256", "iso8859_6"],
    "hebrew": ["cp1255", "iso8859_8"],
    "thai": ["cp874"],
}
UNICODE = ["utf_8", "utf_8_sig"]
SIZES = [1, 3, 20, 200, 10_000]
STYLES = ["ascii", "native"]
ENGLISH = "Kettle Pillow Towel Lamp Chair Table Mug Plate Knife Spoon Bottle Backpack".split()

HEADER = (
    "orderId,userIdType,userId,currency,total,subtotal,tax,shipping,discount,refund,createdAt,"
    "lineItem_productId,lineItem_name,lineItem_sku,lineItem_brand,lineItem_currency,lineItem_total,"
    "lineItem_subtotal,lineItem_tax,lineItem_shipping,lineItem_discount,lineItem_refund,lineItem_quantity,"
    "lineItem_status,shippingCountry"
)


@dataclass(frozen=True)
class Sample:
    language: str
    codec: str
    rows: int
    style: str

    @property
    def label(self) -> str:
        return f"{self.language}/{self.codec}/{self.rows}/{self.style}"


def text_of(sample: Sample) -> str:
    """The file's text: a header and `rows` order rows, the same for a sample every time."""
    chosen = random.Random(sample.label)
    words = WORDS[sample.language]
    lines = [HEADER]
    for i in range(sample.rows):
        if sample.style == "native" or i % 25 == 0:  # "ascii": a native word in one row of 25
            name = " ".join(chosen.choice(words) for _ in range(chosen.randint(1, 3)))
            brand, city = chosen.choice(words), chosen.choice(words)
        else:
            name, brand, city = chosen.choice(ENGLISH), "Acme", "Springfield"
        name = f'"{name}"' if "," in name or '"' in name else name
        lines.append(
            f"o{i},email,u{i}@example.com,EUR,10,8,2,0,0,0,2024-05-01T10:00:00Z,p{i},{name},s{i},{brand},"
            f"EUR,10,8,2,0,0,0,1,paid,{city}"
        )
    return "\r\n".join(lines) + "\r\n"


def samples() -> Iterator[Sample]:
    for language, codecs in CODEPAGES.items():
        for codec in [*codecs, *UNICODE]:
            for rows in SIZES:
                for style in STYLES:
                    yield Sample(language, codec, rows, style)


def corpus() -> Iterator[tuple[Sample, bytes, str]]:
    """(sample, its bytes, its text) for every sample; skips none: every word fits its code pages."""
    for sample in samples():
        text = text_of(sample)
        yield sample, text.encode(sample.codec), text.removeprefix("\ufeff")
