// SPDX-License-Identifier: Apache-2.0
#include "hal/keymap.hpp"

#include <linux/input-event-codes.h>

#include <string>

namespace hal {

// Fills a Keymap from rows of characters. Rows follow evdev code order, which is the physical
// key order of a PC keyboard: KEY_1..KEY_EQUAL, KEY_Q..KEY_RIGHTBRACE, KEY_A..KEY_GRAVE,
// KEY_BACKSLASH..KEY_SLASH. Layout data follows the Linux xkb symbols files (us, gb, de, fr).
// Declare it as `KeymapBuilder b{};`: gcc 14 for armhf at -O2 reports a false "value computed
// is not used" (-Werror) on the default-initialized form.
struct KeymapBuilder {
  Keymap map;

  void row(std::uint16_t first, std::u32string_view base, std::u32string_view shift) {
    for (std::size_t i = 0; i < base.size(); ++i) {
      auto& e = map.keys_[first + i];
      e.ch[Keymap::kBase] = base[i];
      e.ch[Keymap::kShift] = i < shift.size() ? shift[i] : 0;
      char32_t b = base[i];
      char32_t s = e.ch[Keymap::kShift];
      bool ascii_letter = b >= U'a' && b <= U'z' && s == b - 32;
      bool latin1_letter = b >= 0xE0 && b <= 0xFE && b != 0xF7 && s == b - 0x20;
      e.alpha = ascii_letter || latin1_letter;
    }
  }
  void set(std::uint16_t code, int level, char32_t ch, bool dead = false) {
    auto& e = map.keys_[code];
    e.ch[level] = ch;
    if (dead) {
      e.dead |= static_cast<std::uint8_t>(1U << level);
    } else {
      e.dead &= static_cast<std::uint8_t>(~(1U << level));
    }
  }
  void altgr(std::uint16_t code, char32_t ch, bool dead = false) { set(code, Keymap::kAltGr, ch, dead); }
  void named(std::string_view name) { map.name_ = name; }
  void common() {
    set(KEY_SPACE, Keymap::kBase, U' ');
    set(KEY_SPACE, Keymap::kShift, U' ');
  }
};

namespace {

Keymap make_us() {
  KeymapBuilder b{};
  b.named("us");
  b.row(KEY_1, U"1234567890-=", U"!@#$%^&*()_+");
  b.row(KEY_Q, U"qwertyuiop[]", U"QWERTYUIOP{}");
  b.row(KEY_A, U"asdfghjkl;'`", U"ASDFGHJKL:\"~");
  b.row(KEY_BACKSLASH, U"\\zxcvbnm,./", U"|ZXCVBNM<>?");
  b.row(KEY_102ND, U"<", U">");
  b.common();
  return b.map;
}

Keymap make_uk() {
  KeymapBuilder b{};
  b.named("uk");
  b.row(KEY_1, U"1234567890-=", U"!\"\u00A3$%^&*()_+");
  b.row(KEY_Q, U"qwertyuiop[]", U"QWERTYUIOP{}");
  b.row(KEY_A, U"asdfghjkl;'`", U"ASDFGHJKL:@\u00AC");
  b.row(KEY_BACKSLASH, U"#zxcvbnm,./", U"~ZXCVBNM<>?");
  b.row(KEY_102ND, U"\\", U"|");
  b.altgr(KEY_4, U'\u20AC');
  b.altgr(KEY_GRAVE, U'\u00A6');
  b.common();
  return b.map;
}

Keymap make_de() {
  KeymapBuilder b{};
  b.named("de");
  b.row(KEY_1, U"1234567890\u00DF\u00B4", U"!\"\u00A7$%&/()=?`");
  b.row(KEY_Q, U"qwertzuiop\u00FC+", U"QWERTZUIOP\u00DC*");
  b.row(KEY_A, U"asdfghjkl\u00F6\u00E4^", U"ASDFGHJKL\u00D6\u00C4\u00B0");
  b.row(KEY_BACKSLASH, U"#yxcvbnm,.-", U"'YXCVBNM;:_");
  b.row(KEY_102ND, U"<", U">");
  b.set(KEY_EQUAL, Keymap::kBase, U'\u00B4', true);  // dead acute
  b.set(KEY_EQUAL, Keymap::kShift, U'`', true);      // dead grave
  b.set(KEY_GRAVE, Keymap::kBase, U'^', true);       // dead circumflex
  b.altgr(KEY_2, U'\u00B2');
  b.altgr(KEY_3, U'\u00B3');
  b.altgr(KEY_7, U'{');
  b.altgr(KEY_8, U'[');
  b.altgr(KEY_9, U']');
  b.altgr(KEY_0, U'}');
  b.altgr(KEY_MINUS, U'\\');
  b.altgr(KEY_Q, U'@');
  b.altgr(KEY_E, U'\u20AC');
  b.altgr(KEY_RIGHTBRACE, U'~');
  b.altgr(KEY_M, U'\u00B5');
  b.altgr(KEY_102ND, U'|');
  b.common();
  return b.map;
}

Keymap make_fr() {
  KeymapBuilder b{};
  b.named("fr");
  b.row(KEY_1, U"&\u00E9\"'(-\u00E8_\u00E7\u00E0)=", U"1234567890\u00B0+");
  b.row(KEY_Q, U"azertyuiop^$", U"AZERTYUIOP\u00A8\u00A3");
  b.row(KEY_A, U"qsdfghjklm\u00F9\u00B2", U"QSDFGHJKLM%");
  b.row(KEY_BACKSLASH, U"*wxcvbn,;:!", U"\u00B5WXCVBN?./\u00A7");
  b.row(KEY_102ND, U"<", U">");
  b.set(KEY_LEFTBRACE, Keymap::kBase, U'^', true);        // dead circumflex
  b.set(KEY_LEFTBRACE, Keymap::kShift, U'\u00A8', true);  // dead diaeresis
  b.altgr(KEY_2, U'~', true);
  b.altgr(KEY_3, U'#');
  b.altgr(KEY_4, U'{');
  b.altgr(KEY_5, U'[');
  b.altgr(KEY_6, U'|');
  b.altgr(KEY_7, U'`', true);
  b.altgr(KEY_8, U'\\');
  b.altgr(KEY_9, U'^');
  b.altgr(KEY_0, U'@');
  b.altgr(KEY_MINUS, U']');
  b.altgr(KEY_EQUAL, U'}');
  b.altgr(KEY_E, U'\u20AC');
  b.altgr(KEY_RIGHTBRACE, U'\u00A4');
  b.common();
  return b.map;
}

}  // namespace

Result<Keymap> Keymap::by_name(std::string_view name) {
  if (name == "us") {
    return make_us();
  }
  if (name == "de") {
    return make_de();
  }
  if (name == "fr") {
    return make_fr();
  }
  if (name == "uk" || name == "gb") {
    return make_uk();
  }
  return Error(Errc::config, "keymap: unknown layout '" + std::string(name) + "' (known: us, de, fr, uk)");
}

Keymap Keymap::us() {
  return make_us();
}

Keymap::Symbol Keymap::lookup(std::uint16_t code, bool shift, bool altgr, bool caps) const {
  if (code >= kKeys) {
    return {};
  }
  const Entry& e = keys_[code];
  if (caps && e.alpha) {
    shift = !shift;
  }
  int level = altgr ? (shift ? kShiftAltGr : kAltGr) : (shift ? kShift : kBase);
  char32_t ch = e.ch[level];
  if (ch == 0 && level == kShiftAltGr) {
    level = kAltGr;  // most layouts leave Shift+AltGr undefined; xkb falls back the same way
    ch = e.ch[level];
  }
  return Symbol{ch, (e.dead & (1U << level)) != 0};
}

char32_t Keymap::base(std::uint16_t code) const {
  return code < kKeys ? keys_[code].ch[kBase] : 0;
}

char32_t Keymap::compose(char32_t accent, char32_t next) {
  struct Row {
    char32_t accent;
    std::u32string_view from;
    std::u32string_view to;
  };
  static constexpr Row kRows[] = {
      {U'^', U"aeiouAEIOU", U"\u00E2\u00EA\u00EE\u00F4\u00FB\u00C2\u00CA\u00CE\u00D4\u00DB"},
      {U'\u00B4', U"aeiouyAEIOUY",
       U"\u00E1\u00E9\u00ED\u00F3\u00FA\u00FD\u00C1\u00C9\u00CD\u00D3\u00DA\u00DD"},
      {U'`', U"aeiouAEIOU", U"\u00E0\u00E8\u00EC\u00F2\u00F9\u00C0\u00C8\u00CC\u00D2\u00D9"},
      {U'\u00A8', U"aeiouyAEIOU", U"\u00E4\u00EB\u00EF\u00F6\u00FC\u00FF\u00C4\u00CB\u00CF\u00D6\u00DC"},
      {U'~', U"anoANO", U"\u00E3\u00F1\u00F5\u00C3\u00D1\u00D5"},
  };
  if (next == U' ' || next == accent) {
    return accent;
  }
  for (const auto& r : kRows) {
    if (r.accent != accent) {
      continue;
    }
    auto pos = r.from.find(next);
    if (pos != std::u32string_view::npos) {
      return r.to[pos];
    }
  }
  return 0;
}

}  // namespace hal
