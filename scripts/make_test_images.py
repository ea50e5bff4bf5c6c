#!/usr/bin/env python3
"""Write the small grayscale test images under tests/images/.

Standard library only: the images are binary PGM (P5) files written by hand.

    python3 scripts/make_test_images.py

writes

    tests/images/digits/digit_0.pgm ... digit_9.pgm
        16 x 16, the digits 0-9 of a 5 x 7 bitmap font scaled by 2 (10 x 14) and centred
        (3 pixels left and right, 1 above and below); ink 255 on a 0 background.
    tests/images/mismatched/a_16x16.pgm, b_8x8.pgm
        two images of different sizes (loading the folder must fail and name b_8x8.pgm).
    tests/images/empty/README.txt
        a folder with no image in it (loading it must fail).

The output is deterministic: running the script again rewrites identical files.
"""

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


def pgm(width, height, pixels):
    """A binary PGM (P5) file with maxval 255; pixels is a row-major list of 0..255."""
    assert len(pixels) == width * height
    header = f"P5\n{width} {height}\n255\n".encode("ascii")
    return header + bytes(pixels)


def digit_image(digit):
    """The digit drawn at SCALE, centred in a WIDTH x HEIGHT image."""
    rows = FONT[digit]
    glyph_w, glyph_h = 5 * SCALE, 7 * SCALE
    x0, y0 = (WIDTH - glyph_w) // 2, (HEIGHT - glyph_h) // 2
    pixels = [0] * (WIDTH * HEIGHT)
    for gy, row in enumerate(rows):
        assert len(row) == 5, (digit, row)
        for gx, ch in enumerate(row):
            if ch != "#":
                continue
            for dy in range(SCALE):
                for dx in range(SCALE):
                    x = x0 + gx * SCALE + dx
                    y = y0 + gy * SCALE + dy
                    pixels[y * WIDTH + x] = 255
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
