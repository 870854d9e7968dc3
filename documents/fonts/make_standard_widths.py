"""Writes standard-widths.tsv: glyph widths of the PDF standard fonts for WinAnsi codes.

    python3 make_standard_widths.py /usr/share/fonts/truetype/liberation > standard-widths.tsv

The widths are measured from the Liberation fonts (Debian's fonts-liberation, Red Hat), which
were drawn to be metric-compatible with Helvetica (Arial), Times and Courier, so their advances
are the standard fonts' published widths (Helvetica's space is 278, its digits 556). Only these
numbers are kept, no font data. One line per standard font: its name, then the advance of
codes 32 to 255 in thousandths of the font size, tab-separated. Needs fontTools.
"""

import sys

from fontTools.ttLib import TTFont

FONTS = {
    "Helvetica": "LiberationSans-Regular.ttf",
    "Helvetica-Bold": "LiberationSans-Bold.ttf",
    "Helvetica-Oblique": "LiberationSans-Italic.ttf",
    "Helvetica-BoldOblique": "LiberationSans-BoldItalic.ttf",
    "Times-Roman": "LiberationSerif-Regular.ttf",
    "Times-Bold": "LiberationSerif-Bold.ttf",
    "Times-Italic": "LiberationSerif-Italic.ttf",
    "Times-BoldItalic": "LiberationSerif-BoldItalic.ttf",
    "Courier": "LiberationMono-Regular.ttf",
    "Courier-Bold": "LiberationMono-Bold.ttf",
    "Courier-Oblique": "LiberationMono-Italic.ttf",
    "Courier-BoldOblique": "LiberationMono-BoldItalic.ttf",
}


def main(directory):
    for name, file_name in FONTS.items():
        font = TTFont(f"{directory}/{file_name}")
        scale = 1000 / font["head"].unitsPerEm
        cmap = font.getBestCmap()
        metrics = font["hmtx"].metrics
        widths = []
        for code in range(32, 256):
            character = bytes([code]).decode("cp1252", errors="replace")
            glyph = cmap.get(ord(character))
            width = metrics[glyph][0] * scale if glyph else metrics[cmap[32]][0] * scale
            widths.append(str(round(width)))
        print("\t".join([name] + widths))


if __name__ == "__main__":
    main(sys.argv[1])
