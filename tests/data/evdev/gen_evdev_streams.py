#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the recorded evdev streams in tests/data/evdev/ (raw struct input_event records).

Each stream is what a keyboard-wedge barcode scanner sends for one or more scans: EV_MSC scan
codes, EV_KEY press/release, EV_SYN reports, 4 ms per key, in the 24-byte little-endian layout
of 64-bit Linux (struct timeval + type + code + value). The key sequences come from this file's
own layout tables (independent of hal/src/scanner/keymap.cpp), so a test that decodes a stream checks
the agent's keymap against a second description of the layout.

  gen_evdev_streams.py [--out DIR]     write the streams (default: this script's folder)
  gen_evdev_streams.py --check DIR     exit 1 if DIR's streams differ from what would be written
"""
import os
import struct
import sys

EV_SYN, EV_KEY, EV_MSC = 0, 1, 4
SYN_REPORT, SYN_DROPPED, MSC_SCAN = 0, 3, 4

K = {  # linux/input-event-codes.h
    "ESC": 1, "1": 2, "2": 3, "3": 4, "4": 5, "5": 6, "6": 7, "7": 8, "8": 9, "9": 10, "0": 11,
    "MINUS": 12, "EQUAL": 13, "TAB": 15, "Q": 16, "W": 17, "E": 18, "R": 19, "T": 20, "Y": 21,
    "U": 22, "I": 23, "O": 24, "P": 25, "LEFTBRACE": 26, "RIGHTBRACE": 27, "ENTER": 28,
    "LEFTCTRL": 29, "A": 30, "S": 31, "D": 32, "F": 33, "G": 34, "H": 35, "J": 36, "K": 37,
    "L": 38, "SEMICOLON": 39, "APOSTROPHE": 40, "GRAVE": 41, "LEFTSHIFT": 42, "BACKSLASH": 43,
    "Z": 44, "X": 45, "C": 46, "V": 47, "B": 48, "N": 49, "M": 50, "COMMA": 51, "DOT": 52,
    "SLASH": 53, "RIGHTSHIFT": 54, "LEFTALT": 56, "SPACE": 57, "CAPSLOCK": 58, "F8": 66,
    "KP7": 71, "KP8": 72, "KP9": 73, "KP4": 75, "KP5": 76, "KP6": 77, "KP1": 79, "KP2": 80,
    "KP3": 81, "KP0": 82, "RIGHTALT": 100,
}

# char -> (key, modifiers) per layout; modifiers: "s" Shift, "g" AltGr.
def us_layout():
    m = {}
    rows = [("1234567890-=", "!@#$%^&*()_+", ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "MINUS", "EQUAL"]),
            ("qwertyuiop[]", "QWERTYUIOP{}", ["Q", "W", "E", "R", "T", "Y", "U", "I", "O", "P", "LEFTBRACE", "RIGHTBRACE"]),
            ("asdfghjkl;'`", "ASDFGHJKL:\"~", ["A", "S", "D", "F", "G", "H", "J", "K", "L", "SEMICOLON", "APOSTROPHE", "GRAVE"]),
            ("\\zxcvbnm,./", "|ZXCVBNM<>?", ["BACKSLASH", "Z", "X", "C", "V", "B", "N", "M", "COMMA", "DOT", "SLASH"])]
    for base, shifted, keys in rows:
        for b, s, k in zip(base, shifted, keys):
            m[b] = (k, "")
            m[s] = (k, "s")
    m[" "] = ("SPACE", "")
    return m


def de_layout():
    m = {}
    for c in "abcdefghijklmnopqrstuvwxyz":
        k = {"y": "Z", "z": "Y"}.get(c, c.upper())
        m[c] = (k, "")
        m[c.upper()] = (k, "s")
    digits = "1234567890"
    shifted = "!\"\u00a7$%&/()="
    for d, s in zip(digits, shifted):
        m[d] = (d, "")
        m[s] = (d, "s")
    m.update({"-": ("SLASH", ""), "_": ("SLASH", "s"), ".": ("DOT", ""), ":": ("DOT", "s"),
              ",": ("COMMA", ""), ";": ("COMMA", "s"), "+": ("RIGHTBRACE", ""), "*": ("RIGHTBRACE", "s"),
              "#": ("BACKSLASH", ""), "'": ("BACKSLASH", "s"), "\u00df": ("MINUS", ""), "?": ("MINUS", "s"),
              "\u00e4": ("APOSTROPHE", ""), "\u00c4": ("APOSTROPHE", "s"), "\u00f6": ("SEMICOLON", ""),
              "\u00d6": ("SEMICOLON", "s"), "\u00fc": ("LEFTBRACE", ""), "\u00dc": ("LEFTBRACE", "s"),
              "@": ("Q", "g"), "\u20ac": ("E", "g"), "{": ("7", "g"), "[": ("8", "g"), "]": ("9", "g"),
              "}": ("0", "g"), "\\": ("MINUS", "g"), "~": ("RIGHTBRACE", "g"), " ": ("SPACE", ""),
              "DEAD^": ("GRAVE", "")})
    return m


def fr_layout():
    m = {}
    swap = {"a": "Q", "q": "A", "z": "W", "w": "Z", "m": "SEMICOLON"}
    for c in "abcdefghijklmnopqrstuvwxyz":
        k = swap.get(c, c.upper())
        if c == "m":
            k = "SEMICOLON"
        m[c] = (k, "")
        m[c.upper()] = (k, "s")
    base = "&\u00e9\"'(-\u00e8_\u00e7\u00e0"
    for i, (d, b) in enumerate(zip("1234567890", base)):
        key = "1234567890"[i]
        m[d] = (key, "s")
        m[b] = (key, "")
    m.update({"@": ("0", "g"), "#": ("3", "g"), "{": ("4", "g"), "[": ("5", "g"), "|": ("6", "g"),
              "\\": ("8", "g"), ")": ("MINUS", ""), "=": ("EQUAL", ""), "+": ("EQUAL", "s"),
              ",": ("M", ""), "?": ("M", "s"), ";": ("COMMA", ""), ".": ("COMMA", "s"), ":": ("DOT", ""),
              "/": ("DOT", "s"), "!": ("SLASH", ""), "*": ("BACKSLASH", ""), "$": ("RIGHTBRACE", ""),
              "\u00f9": ("APOSTROPHE", ""), "%": ("APOSTROPHE", "s"), " ": ("SPACE", "")})
    return m


class Stream:
    def __init__(self):
        self.t = 1_700_000_000_000_000  # microseconds, a plausible CLOCK_REALTIME
        self.data = bytearray()

    def ev(self, etype, code, value):
        self.data += struct.pack("<qqHHi", self.t // 1_000_000, self.t % 1_000_000, etype, code, value)

    def key(self, name, value):
        self.ev(EV_MSC, MSC_SCAN, 0x70000 + K[name])  # as a USB HID keyboard reports it
        self.ev(EV_KEY, K[name], value)
        self.ev(EV_SYN, SYN_REPORT, 0)
        self.t += 2000

    def tap(self, name, mods=""):
        held = [m for m in (("LEFTSHIFT" if "s" in mods else None), ("RIGHTALT" if "g" in mods else None),
                            ("LEFTCTRL" if "c" in mods else None)) if m]
        for h in held:
            self.key(h, 1)
        self.key(name, 1)
        self.key(name, 0)
        for h in reversed(held):
            self.key(h, 0)

    def type(self, layout, text):
        for c in text:
            k, mods = layout[c]
            self.tap(k, mods)

    def alt_code(self, digits):
        self.key("LEFTALT", 1)
        for d in digits:
            self.tap("KP" + d)
        self.key("LEFTALT", 0)

    def pause(self, ms):
        self.t += ms * 1000

    def dropped(self):
        self.ev(EV_SYN, SYN_DROPPED, 0)
        self.t += 1000


def streams():
    us, de, fr = us_layout(), de_layout(), fr_layout()
    out = {}

    s = Stream()  # Shift: upper case and symbols; two scans
    s.type(us, "SN-000123"); s.tap("ENTER")
    s.pause(800)
    s.type(us, "Part#A1b_(x)"); s.tap("ENTER")
    out["us_shift.evdev"] = s

    s = Stream()  # Caps Lock inverts Shift for letters only
    s.tap("CAPSLOCK"); s.type(us, "abc-123"); s.tap("D", "s"); s.tap("CAPSLOCK"); s.type(us, "e!")
    s.tap("ENTER")
    out["us_capslock.evdev"] = s

    s = Stream()  # GS1-128 with GS sent as Ctrl+] between variable fields
    s.type(us, "]C10109501101530003"); s.type(us, "10LOT42"); s.tap("RIGHTBRACE", "c"); s.type(us, "21SN-7")
    s.tap("ENTER")
    out["us_gs1_ctrl_gs.evdev"] = s

    s = Stream()  # Alt+keypad codes: A, GS (as Alt+0029), a-umlaut, then a plain digit
    s.alt_code("65"); s.alt_code("0029"); s.alt_code("228"); s.type(us, "1"); s.tap("ENTER")
    out["us_altnumpad.evdev"] = s

    s = Stream()  # GS as a configured key (F8)
    s.type(us, "]d2"); s.tap("F8"); s.type(us, "0109501101530003"); s.type(us, "21ABC"); s.tap("F8")
    s.type(us, "10L1"); s.tap("ENTER")
    out["us_gs_key_f8.evdev"] = s

    s = Stream()  # SYN_DROPPED in the middle of a scan; its tail must not pass as a scan
    s.type(us, "GOOD1"); s.tap("ENTER")
    s.pause(500)
    s.type(us, "BAD"); s.dropped(); s.type(us, "TAIL"); s.tap("ENTER")
    s.pause(2000)
    s.type(us, "GOOD2"); s.tap("ENTER")
    out["us_syn_dropped.evdev"] = s

    s = Stream()  # a control character (Tab) inside a scan, then a good scan
    s.type(us, "AB"); s.tap("TAB"); s.type(us, "C"); s.tap("ENTER")
    s.pause(500)
    s.type(us, "OK"); s.tap("ENTER")
    out["us_control_char.evdev"] = s

    s = Stream()  # terminator none: scans end on a 250+ ms gap
    s.type(us, "ABC"); s.pause(600); s.type(us, "DEF")
    out["us_gap_only.evdev"] = s

    s = Stream()  # German layout: QWERTZ, Shift row, umlauts, AltGr, a dead key
    s.type(de, "Zeile-42/\u00c4@x"); s.tap("GRAVE"); s.tap("SPACE"); s.tap("GRAVE"); s.type(de, "e")
    s.tap("ENTER")
    out["de_keymap.evdev"] = s

    s = Stream()  # French layout: AZERTY, Shift for digits, AltGr
    s.type(fr, "A1z@mq!/"); s.tap("ENTER")
    out["fr_keymap.evdev"] = s
    return out


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    if len(argv) == 3 and argv[1] == "--check":
        bad = [n for n, s in streams().items()
               if not os.path.exists(os.path.join(argv[2], n)) or open(os.path.join(argv[2], n), "rb").read() != s.data]
        for n in bad:
            print("gen_evdev_streams: %s differs from the generator's output" % n, file=sys.stderr)
        return 1 if bad else 0
    out = argv[2] if len(argv) == 3 and argv[1] == "--out" else here
    for name, s in streams().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(s.data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
