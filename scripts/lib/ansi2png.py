#!/usr/bin/env python3
"""Renders a terminal capture (tmux `capture-pane -e -p`: text with ANSI colour escapes) to a PNG.

    ansi2png.py CAPTURE.ans OUT.png [--cols 120] [--rows 40] [--font-size 16]

pyte interprets the escapes exactly as a terminal would (SGR colours 8/16/256/true colour, bold,
reverse, wide characters); Pillow draws every cell with DejaVu Sans Mono. The palette is xterm's.
"""
import argparse
import sys

import pyte
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
DEFAULT_FG = (229, 229, 229)
DEFAULT_BG = (24, 24, 28)
# xterm's 16 colours; pyte names the first 8 and their bright forms.
NAMED = {
    "black": (0, 0, 0), "red": (205, 49, 49), "green": (13, 188, 121), "brown": (229, 229, 16),
    "yellow": (229, 229, 16), "blue": (36, 114, 200), "magenta": (188, 63, 188), "cyan": (17, 168, 205),
    "white": (229, 229, 229),
    "brightblack": (102, 102, 102), "brightred": (241, 76, 76), "brightgreen": (35, 209, 139),
    "brightbrown": (245, 245, 67), "brightyellow": (245, 245, 67), "brightblue": (59, 142, 234),
    "brightmagenta": (214, 112, 214), "brightcyan": (41, 184, 219), "brightwhite": (255, 255, 255),
}


def colour(name, default):
    if name == "default":
        return default
    if name in NAMED:
        return NAMED[name]
    if len(name) == 6:  # pyte reports 256-colour and true-colour values as hex
        try:
            return tuple(int(name[i:i + 2], 16) for i in (0, 2, 4))
        except ValueError:
            pass
    return default


def render(capture, out, cols, rows, size):
    screen = pyte.Screen(cols, rows)
    stream = pyte.ByteStream(screen)
    # capture-pane ends every line with \n only; a terminal needs the carriage return too, and a
    # line feed after the last row would scroll the first one away.
    lines = capture.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    stream.feed(b"\r\n".join(lines[:rows]))

    regular = ImageFont.truetype(f"{FONT_DIR}/DejaVuSansMono.ttf", size)
    bold = ImageFont.truetype(f"{FONT_DIR}/DejaVuSansMono-Bold.ttf", size)
    cell_w = round(regular.getlength("M"))
    ascent, descent = regular.getmetrics()
    cell_h = ascent + descent + 2
    pad = 12
    image = Image.new("RGB", (cols * cell_w + 2 * pad, rows * cell_h + 2 * pad), DEFAULT_BG)
    draw = ImageDraw.Draw(image)
    for y in range(rows):
        line = screen.buffer[y]
        for x in range(cols):
            char = line[x]
            fg, bg = colour(char.fg, DEFAULT_FG), colour(char.bg, DEFAULT_BG)
            if char.bold and char.fg in NAMED and not char.fg.startswith("bright"):
                fg = NAMED.get("bright" + char.fg, fg)
            if char.reverse:
                fg, bg = bg, fg
            left, top = pad + x * cell_w, pad + y * cell_h
            if bg != DEFAULT_BG:
                draw.rectangle([left, top, left + cell_w - 1, top + cell_h - 1], fill=bg)
            if char.data and char.data != " ":
                draw.text((left, top + 1), char.data, font=bold if char.bold else regular, fill=fg)
            if char.underscore:
                draw.line([left, top + cell_h - 2, left + cell_w - 1, top + cell_h - 2], fill=fg)
    image.save(out, optimize=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture")
    parser.add_argument("out")
    parser.add_argument("--cols", type=int, default=120)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--font-size", type=int, default=16)
    args = parser.parse_args()
    try:
        with open(args.capture, "rb") as f:
            capture = f.read()
    except OSError as e:
        sys.exit(f"ansi2png: cannot read {args.capture}: {e.strerror}")
    if not capture.strip():
        sys.exit(f"ansi2png: {args.capture} is empty: nothing was captured")
    render(capture, args.out, args.cols, args.rows, args.font_size)


if __name__ == "__main__":
    main()
