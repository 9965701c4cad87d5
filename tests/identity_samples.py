"""Synthetic identity documents for tests and benchmarks: never a real person's card.

A Spanish DNI or NIE card (ICAO 9303 TD1: the front with the printed fields, the back with a
three-line MRZ) or a passport's photo page (TD3: a two-line MRZ under the printed fields),
drawn at 300 dpi with random but valid numbers, and the same photographed by a phone: on a
table, slightly turned and skewed, as JPEG, optionally with glare or blur. The MRZ itself is
made by the ``mrz`` package, so its check digits are the standard's; a forged one changes a
field after the check digits were computed.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from mrz.generator.td1 import TD1CodeGenerator
from mrz.generator.td3 import TD3CodeGenerator
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from stdnum.es import dni as stdnum_dni
from stdnum.es import nie as stdnum_nie

DPI = 300
CARD = (1011, 638)  # ID-1, 85.6 x 54 mm
PASSPORT_PAGE = (1476, 1039)  # ID-3 data page, 125 x 88 mm

SURNAMES = ("GARCÍA", "MARTÍNEZ", "LÓPEZ", "SÁNCHEZ", "PÉREZ", "GÓMEZ", "FERNÁNDEZ", "RUIZ")
GIVEN = ("LUCÍA", "MARÍA", "CARMEN", "JAVIER", "PABLO", "ANA", "JOSÉ", "ELENA", "DAVID")


@dataclass
class IdentitySample:
    """Images of one document and what a reader should find on them."""

    kind: str  # dni | nie | passport
    front: Image.Image
    back: Image.Image | None
    expected: dict[str, str]
    mrz: str
    notes: list[str] = field(default_factory=list)

    def jpeg(self, side: str = "front", quality: int = 88) -> bytes:
        image = self.front if side == "front" else self.back
        assert image is not None
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=quality)
        return out.getvalue()

    def pdf(self) -> bytes:
        """Both sides as a two-page PDF, as a scanner would send them."""
        pages = [self.front.convert("RGB")] + ([self.back.convert("RGB")] if self.back else [])
        out = io.BytesIO()
        pages[0].save(out, "PDF", resolution=DPI, save_all=True, append_images=pages[1:])
        return out.getvalue()


@cache
def _font_path(mono: bool, bold: bool) -> str:
    names = (
        ("DejaVuSansMono.ttf", "LiberationMono-Regular.ttf")
        if mono
        else (
            ("LiberationSans-Bold.ttf", "DejaVuSans-Bold.ttf")
            if bold
            else ("LiberationSans-Regular.ttf", "DejaVuSans.ttf")
        )
    )
    for root in ("/usr/share/fonts", "/usr/local/share/fonts"):
        for name in names:
            found = sorted(Path(root).rglob(name))
            if found:
                return str(found[0])
    raise RuntimeError("no TrueType font: install fonts-liberation or fonts-dejavu")


def _font(size: int, *, mono: bool = False, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_font_path(mono, bold), size)


def random_dni(rng: random.Random) -> str:
    digits = f"{rng.randrange(10_000_000, 99_999_999):08d}"
    return digits + stdnum_dni.calc_check_digit(digits)


def random_nie(rng: random.Random) -> str:
    body = rng.choice("XYZ") + f"{rng.randrange(0, 9_999_999):07d}"
    return body + stdnum_nie.calc_check_digit(body)


def _ascii(text: str) -> str:
    return text.translate(str.maketrans("ÁÉÍÓÚÜÑ", "AEIOUUN"))


def _mrz_date(day: date) -> str:
    return f"{day:%y%m%d}"


def identity_document(
    rng: random.Random,
    *,
    kind: str = "dni",
    today: date | None = None,
    expired: bool = False,
    forged: bool = False,
    given_names: str | None = None,
    surnames: str | None = None,
    number: str | None = None,
) -> IdentitySample:
    """Draw one document flat, as a scanner at 300 dpi would."""
    today = today or date.today()
    given = given_names or rng.choice(GIVEN)
    family = surnames or f"{rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"
    born = date(rng.randrange(1950, 2004), rng.randrange(1, 13), rng.randrange(1, 29))
    if expired:
        expiry = today - timedelta(days=rng.randrange(30, 900))
    else:
        expiry = today + timedelta(days=rng.randrange(200, 3000))
    sex = rng.choice("FM")
    nationality = "ESP" if kind in ("dni", "passport") else rng.choice(("ITA", "FRA", "PRT", "COL"))
    personal = number or (random_nie(rng) if kind == "nie" else random_dni(rng))
    support = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3)) + (
        f"{rng.randrange(0, 999_999):06d}"
    )
    if kind == "passport":
        mrz = str(
            TD3CodeGenerator(
                "P",
                "ESP",
                _ascii(family),
                _ascii(given),
                support,
                nationality,
                _mrz_date(born),
                sex,
                _mrz_date(expiry),
                personal,
            )
        )
    else:
        mrz = str(
            TD1CodeGenerator(
                "ID",
                "ESP",
                support,
                _mrz_date(born),
                sex,
                _mrz_date(expiry),
                nationality,
                _ascii(family),
                _ascii(given),
                personal,
            )
        )
    notes: list[str] = []
    if forged:
        # The birth date printed and in the MRZ changed after the check digits were made.
        forged_born = born + timedelta(days=1)
        mrz = mrz.replace(_mrz_date(born), _mrz_date(forged_born), 1)
        born = forged_born
        notes.append("forged")
    expected = {
        "document_type": kind,
        "document_number": personal,
        "surnames": family,
        "given_names": given,
        "birth_date": born.isoformat(),
        "expiry_date": expiry.isoformat(),
        "nationality": nationality,
    }
    if kind == "passport":
        front = _passport_page(family, given, born, expiry, personal, support, nationality, mrz)
        return IdentitySample(kind, front, None, expected, mrz, notes)
    front = _card_front(kind, family, given, born, expiry, personal, support, sex, nationality)
    back = _card_back(mrz)
    return IdentitySample(kind, front, back, expected, mrz, notes)


def _card_front(
    kind: str,
    family: str,
    given: str,
    born: date,
    expiry: date,
    number: str,
    support: str,
    sex: str,
    nationality: str,
) -> Image.Image:
    image = Image.new("L", CARD, 236)
    draw = ImageDraw.Draw(image)
    draw.text((40, 24), "REINO DE ESPAÑA", font=_font(30, bold=True), fill=30)
    title = (
        "DOCUMENTO NACIONAL DE IDENTIDAD" if kind == "dni" else "TARJETA DE IDENTIDAD DE EXTRANJERO"
    )
    draw.text((40, 62), title, font=_font(24, bold=True), fill=30)
    draw.rectangle((40, 110, 300, 450), outline=90, width=3, fill=205)  # the photo
    small, value = _font(20), _font(30, bold=True)
    rows = (
        ("APELLIDOS", family),
        ("NOMBRE", given),
        ("SEXO", sex),
        ("NACIONALIDAD", nationality),
        ("FECHA DE NACIMIENTO", f"{born:%d %m %Y}"),
        ("VÁLIDO HASTA", f"{expiry:%d %m %Y}"),
    )
    y = 110
    for label, text in rows:
        draw.text((330, y), label, font=small, fill=60)
        draw.text((330, y + 24), text, font=value, fill=20)
        y += 56
    draw.text(
        (40, 480),
        f"{'DNI' if kind == 'dni' else 'NIE'} {number}",
        font=_font(40, bold=True),
        fill=20,
    )
    draw.text((40, 540), f"IDESP {support}", font=_font(22), fill=60)
    return image


def _card_back(mrz: str) -> Image.Image:
    image = Image.new("L", CARD, 236)
    draw = ImageDraw.Draw(image)
    draw.text((40, 30), "DOMICILIO", font=_font(20), fill=60)
    draw.text((40, 56), "C. MAYOR 1", font=_font(28, bold=True), fill=20)
    draw.text((40, 92), "MADRID", font=_font(28, bold=True), fill=20)
    _draw_mrz(draw, mrz.splitlines(), top=400, size=44)
    return image


def _passport_page(
    family: str,
    given: str,
    born: date,
    expiry: date,
    number: str,
    support: str,
    nationality: str,
    mrz: str,
) -> Image.Image:
    image = Image.new("L", PASSPORT_PAGE, 238)
    draw = ImageDraw.Draw(image)
    draw.text((40, 24), "PASAPORTE  PASSPORT", font=_font(32, bold=True), fill=30)
    draw.rectangle((40, 90, 380, 560), outline=90, width=3, fill=205)
    small, value = _font(20), _font(30, bold=True)
    rows = (
        ("Apellidos / Surname", family),
        ("Nombre / Given names", given),
        ("Nacionalidad / Nationality", "ESPAÑOLA" if nationality == "ESP" else nationality),
        ("Fecha de nacimiento / Date of birth", f"{born:%d %m %Y}"),
        ("Fecha de caducidad / Date of expiry", f"{expiry:%d %m %Y}"),
        ("DNI", number),
        ("N.º pasaporte / Passport No.", support),
    )
    y = 90
    for label, text in rows:
        draw.text((420, y), label, font=small, fill=60)
        draw.text((420, y + 24), text, font=value, fill=20)
        y += 66
    _draw_mrz(draw, mrz.splitlines(), top=820, size=42)
    return image


def _draw_mrz(draw: ImageDraw.ImageDraw, lines: list[str], *, top: int, size: int) -> None:
    font = _font(size, mono=True)
    for index, line in enumerate(lines):
        draw.text((36, top + index * int(size * 1.35)), line, font=font, fill=15)


def photographed(
    image: Image.Image,
    rng: random.Random,
    *,
    angle: float | None = None,
    glare: bool = False,
    blur: float = 0.0,
    scale: float = 1.0,
) -> Image.Image:
    """The document as a phone photographs it: on a darker table, turned, skewed, maybe glared."""
    card = image.convert("RGB")
    if scale != 1.0:
        card = card.resize((int(card.width * scale), int(card.height * scale)), Image.LANCZOS)
    turned = rng.uniform(-3.0, 3.0) if angle is None else angle
    card = card.rotate(turned, expand=True, fillcolor=(92, 74, 60), resample=Image.BICUBIC)
    # A slight keystone, as when the phone is not held exactly parallel.
    w, h = card.size
    lean = int(w * 0.015)
    card = card.transform(
        (w, h),
        Image.QUAD,
        (lean, 0, 0, h, w, h, w - lean, 0),
        resample=Image.BICUBIC,
        fillcolor=(92, 74, 60),
    )
    table = Image.new("RGB", (w + 240, h + 240), (92, 74, 60))
    table.paste(card, (120, 120))
    if glare:
        spot = Image.new("L", table.size, 0)
        ImageDraw.Draw(spot).ellipse(
            (table.width * 0.25, table.height * 0.3, table.width * 0.85, table.height * 0.95),
            fill=255,
        )
        spot = spot.filter(ImageFilter.GaussianBlur(40))
        table = Image.composite(Image.new("RGB", table.size, (255, 255, 255)), table, spot)
    if blur:
        table = table.filter(ImageFilter.GaussianBlur(blur))
    return table


def jpeg_bytes(image: Image.Image, quality: int = 88) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()
