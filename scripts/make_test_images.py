#!/usr/bin/env python3
"""Write the small grayscale test images under tests/images/.

Standard library only: the images are binary PGM (P5) and grayscale PNG files written by
hand.

    python3 scripts/make_test_images.py

writes ten folders of ten 16 x 16 images (one image per memory for recall-images.toml)

    digits/digit_0.pgm ... digit_9.pgm
        the digits of a 5 x 7 bitmap font scaled by 2 (10 x 14) and centred (3 pixels left
        and right, 1 above and below); ink 255 on a 0 background.
    letters/letter_A.png ... letter_K.png      A B C D E F G H J K
    letters2/letter_L.png ... letter_Y.png     L M N P R S T U V Y
    lowercase/letter_a.png ... letter_s.png    a b d e g h k n p s
    lowercase2/letter_c.png ... letter_z.png   c f m o r t u w x z
        the 5 x 7 font scaled by 2 and centred like the digits, then softened by a 3 x 3
        box blur (grayscale edges; the 2-pixel strokes dim to 2/3 of full ink).
    digits3x5/digit_0.png ... digit_9.png
        a 3 x 5 font scaled by 3 (9 x 15, strokes 3 pixels wide), centred, ink 200, sharp.
    letters3x5/letter_A.png ... letter_U.png   A C E F H K L P T U
    letters3x5b/letter_B.png ... letter_Y.png  B D G J M N O R S Y
        the 3 x 5 font scaled by 3, full ink, sharp.
    letters4x5/letter_A.png ... letter_W.png   A B D E G K M N R W
    digits4x5/digit_0.png ... digit_9.png
        a 4 x 5 font scaled by 3 (12 x 15), full ink, sharp.

and two folders for the loader's errors

    mismatched/a_16x16.pgm, b_8x8.pgm
        two images of different sizes (loading the folder must fail and name b_8x8.pgm).
    empty/README.txt
        a folder with no image in it (loading it must fail).

Which folders the recall-images config was chosen on and which were only measured is
told in the README (Held-out images). The output is deterministic: running the script
again rewrites identical files.
"""

import struct
import zlib
from pathlib import Path

WIDTH = 16
HEIGHT = 16
SCALE = 2

# 5 x 7 bitmap font: one string per row, '#' = ink.
FONT = {
    0: [" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "],
    1: ["  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
    2: [" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"],
    3: ["#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "],
    4: ["   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "],
    5: ["#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "],
    6: ["  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "],
    7: ["#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "],
    8: [" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "],
    9: [" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "],
}

LETTERS = {
    "A": [" ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"],
    "B": ["#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### "],
    "C": [" ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### "],
    "D": ["#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### "],
    "E": ["#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####"],
    "F": ["#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    "],
    "G": [" ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####"],
    "H": ["#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"],
    "J": ["  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  "],
    "K": ["#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #"],
}

LETTERS2 = {
    "L": ["#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####"],
    "M": ["#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #"],
    "N": ["#   #", "#   #", "##  #", "# # #", "#  ##", "#   #", "#   #"],
    "P": ["#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    "],
    "R": ["#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #"],
    "S": [" ####", "#    ", "#    ", " ### ", "    #", "    #", "#### "],
    "T": ["#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  "],
    "U": ["#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "],
    "V": ["#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  "],
    "Y": ["#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  "],
}

LOWERCASE = {
    "a": ["     ", "     ", " ### ", "    #", " ####", "#   #", " ####"],
    "b": ["#    ", "#    ", "# ## ", "##  #", "#   #", "#   #", "#### "],
    "d": ["    #", "    #", " ## #", "#  ##", "#   #", "#   #", " ####"],
    "e": ["     ", "     ", " ### ", "#   #", "#####", "#    ", " ### "],
    "g": ["     ", " ####", "#   #", "#   #", " ####", "    #", " ### "],
    "h": ["#    ", "#    ", "# ## ", "##  #", "#   #", "#   #", "#   #"],
    "k": ["#    ", "#    ", "#  # ", "# #  ", "##   ", "# #  ", "#  # "],
    "n": ["     ", "     ", "# ## ", "##  #", "#   #", "#   #", "#   #"],
    "p": ["     ", "     ", "#### ", "#   #", "#### ", "#    ", "#    "],
    "s": ["     ", "     ", " ### ", "#    ", " ### ", "    #", "#### "],
}

# 3 x 5 bitmap font.
SMALL_DIGITS = {
    0: ["###", "# #", "# #", "# #", "###"],
    1: [" # ", "## ", " # ", " # ", "###"],
    2: ["###", "  #", "###", "#  ", "###"],
    3: ["###", "  #", " ##", "  #", "###"],
    4: ["# #", "# #", "###", "  #", "  #"],
    5: ["###", "#  ", "###", "  #", "###"],
    6: ["###", "#  ", "###", "# #", "###"],
    7: ["###", "  #", " # ", " # ", " # "],
    8: ["###", "# #", "###", "# #", "###"],
    9: ["###", "# #", "###", "  #", "###"],
}

SMALL_LETTERS = {
    "A": [" # ", "# #", "###", "# #", "# #"],
    "C": ["###", "#  ", "#  ", "#  ", "###"],
    "E": ["###", "#  ", "## ", "#  ", "###"],
    "F": ["###", "#  ", "## ", "#  ", "#  "],
    "H": ["# #", "# #", "###", "# #", "# #"],
    "K": ["# #", "# #", "## ", "# #", "# #"],
    "L": ["#  ", "#  ", "#  ", "#  ", "###"],
    "P": ["## ", "# #", "## ", "#  ", "#  "],
    "T": ["###", " # ", " # ", " # ", " # "],
    "U": ["# #", "# #", "# #", "# #", "###"],
}

SMALL_LETTERS_B = {
    "B": ["## ", "# #", "## ", "# #", "## "],
    "D": ["## ", "# #", "# #", "# #", "## "],
    "G": [" ##", "#  ", "# #", "# #", " ##"],
    "J": ["  #", "  #", "  #", "# #", " # "],
    "M": ["# #", "###", "###", "# #", "# #"],
    "N": ["## ", "# #", "# #", "# #", "# #"],
    "O": [" # ", "# #", "# #", "# #", " # "],
    "R": ["## ", "# #", "## ", "# #", "# #"],
    "S": [" ##", "#  ", " # ", "  #", "## "],
    "Y": ["# #", "# #", " # ", " # ", " # "],
}

LETTERS_4X5 = {
    "A": [" ## ", "#  #", "####", "#  #", "#  #"],
    "B": ["### ", "#  #", "### ", "#  #", "### "],
    "D": ["### ", "#  #", "#  #", "#  #", "### "],
    "E": ["####", "#   ", "### ", "#   ", "####"],
    "G": [" ###", "#   ", "# ##", "#  #", " ###"],
    "K": ["#  #", "# # ", "##  ", "# # ", "#  #"],
    "M": ["#  #", "####", "####", "#  #", "#  #"],
    "N": ["#  #", "## #", "# ##", "#  #", "#  #"],
    "R": ["### ", "#  #", "### ", "# # ", "#  #"],
    "W": ["#  #", "#  #", "####", "####", "#  #"],
}

DIGITS_4X5 = {
    0: [" ## ", "#  #", "#  #", "#  #", " ## "],
    1: ["  # ", " ## ", "  # ", "  # ", " ###"],
    2: ["### ", "   #", " ## ", "#   ", "####"],
    3: ["### ", "   #", " ## ", "   #", "### "],
    4: ["#  #", "#  #", "####", "   #", "   #"],
    5: ["####", "#   ", "### ", "   #", "### "],
    6: [" ## ", "#   ", "### ", "#  #", " ## "],
    7: ["####", "   #", "  # ", " #  ", " #  "],
    8: [" ## ", "#  #", " ## ", "#  #", " ## "],
    9: [" ## ", "#  #", " ###", "   #", " ## "],
}

LOWERCASE2 = {
    "c": ["     ", "     ", " ### ", "#    ", "#    ", "#   #", " ### "],
    "f": ["  ## ", " #  #", " #   ", "###  ", " #   ", " #   ", " #   "],
    "m": ["     ", "     ", "## # ", "# # #", "# # #", "#   #", "#   #"],
    "o": ["     ", "     ", " ### ", "#   #", "#   #", "#   #", " ### "],
    "r": ["     ", "     ", "# ## ", "##  #", "#    ", "#    ", "#    "],
    "t": [" #   ", " #   ", "###  ", " #   ", " #   ", " #  #", "  ## "],
    "u": ["     ", "     ", "#   #", "#   #", "#   #", "#  ##", " ## #"],
    "w": ["     ", "     ", "#   #", "#   #", "# # #", "# # #", " # # "],
    "x": ["     ", "     ", "#   #", " # # ", "  #  ", " # # ", "#   #"],
    "z": ["     ", "     ", "#####", "   # ", "  #  ", " #   ", "#####"],
}


def pgm(width, height, pixels):
    """A binary PGM (P5) file with maxval 255; pixels is a row-major list of 0..255."""
    assert len(pixels) == width * height
    header = f"P5\n{width} {height}\n255\n".encode("ascii")
    return header + bytes(pixels)


def png(width, height, pixels):
    """A grayscale 8-bit PNG file; pixels is a row-major list of 0..255."""
    assert len(pixels) == width * height

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(
        b"\x00" + bytes(pixels[y * width : (y + 1) * width]) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def blur(width, height, pixels):
    """3 x 3 box blur (edges see only the pixels inside the image), rounded down."""
    out = []
    for y in range(height):
        for x in range(width):
            total = 0
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    xx, yy = x + dx, y + dy
                    if 0 <= xx < width and 0 <= yy < height:
                        total += pixels[yy * width + xx]
            out.append(total // 9)
    return out


def digit_image(digit):
    """The digit drawn at SCALE, centred in a WIDTH x HEIGHT image."""
    return glyph_image(FONT[digit])


def glyph_image(rows, scale=SCALE, ink=255):
    """A bitmap glyph (rows of '#' and ' ') drawn at `scale`, centred in a WIDTH x HEIGHT
    image."""
    glyph_w, glyph_h = len(rows[0]) * scale, len(rows) * scale
    x0, y0 = (WIDTH - glyph_w) // 2, (HEIGHT - glyph_h) // 2
    pixels = [0] * (WIDTH * HEIGHT)
    for gy, row in enumerate(rows):
        assert len(row) == len(rows[0]), row
        for gx, ch in enumerate(row):
            if ch != "#":
                continue
            for dy in range(scale):
                for dx in range(scale):
                    x = x0 + gx * scale + dx
                    y = y0 + gy * scale + dy
                    pixels[y * WIDTH + x] = ink
    return pixels


def gradient(width, height):
    """A horizontal ramp, so the mismatched images are not blank."""
    return [(255 * x) // max(width - 1, 1) for _ in range(height) for x in range(width)]


def main():
    root = Path(__file__).resolve().parent.parent / "tests" / "images"

    digits = root / "digits"
    digits.mkdir(parents=True, exist_ok=True)
    for d in range(10):
        (digits / f"digit_{d}.pgm").write_bytes(pgm(WIDTH, HEIGHT, digit_image(d)))

    for folder, glyphs in (
        ("letters", LETTERS),
        ("letters2", LETTERS2),
        ("lowercase", LOWERCASE),
        ("lowercase2", LOWERCASE2),
    ):
        letters = root / folder
        letters.mkdir(parents=True, exist_ok=True)
        for name, rows in glyphs.items():
            image = blur(WIDTH, HEIGHT, glyph_image(rows))
            (letters / f"letter_{name}.png").write_bytes(png(WIDTH, HEIGHT, image))

    small = root / "digits3x5"
    small.mkdir(parents=True, exist_ok=True)
    for d, rows in SMALL_DIGITS.items():
        image = glyph_image(rows, scale=3, ink=200)
        (small / f"digit_{d}.png").write_bytes(png(WIDTH, HEIGHT, image))

    for folder, glyphs in (
        ("letters3x5", SMALL_LETTERS),
        ("letters3x5b", SMALL_LETTERS_B),
        ("letters4x5", LETTERS_4X5),
        ("digits4x5", DIGITS_4X5),
    ):
        small_letters = root / folder
        small_letters.mkdir(parents=True, exist_ok=True)
        for name, rows in glyphs.items():
            image = glyph_image(rows, scale=3)
            kind = "digit" if isinstance(name, int) else "letter"
            (small_letters / f"{kind}_{name}.png").write_bytes(png(WIDTH, HEIGHT, image))

    mismatched = root / "mismatched"
    mismatched.mkdir(parents=True, exist_ok=True)
    (mismatched / "a_16x16.pgm").write_bytes(pgm(16, 16, gradient(16, 16)))
    (mismatched / "b_8x8.pgm").write_bytes(pgm(8, 8, gradient(8, 8)))

    empty = root / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    (empty / "README.txt").write_text(
        "This folder is intentionally empty of images: loading it as a stimulus folder\n"
        "must fail with an error that names stimuli.path and the accepted extensions.\n"
        "Written by scripts/make_test_images.py.\n"
    )


if __name__ == "__main__":
    main()
