// SPDX-License-Identifier: Apache-2.0
// Keymap: the agent's own fixed keyboard layouts (us, de, fr, uk) for keyboard-wedge barcode
// scanners. A scanner "types" a barcode as key codes for the layout it was configured for; the
// agent translates those codes itself, so the result never depends on the host's console or
// X layout (which the agent does not control and which may change under it).
//
// A Keymap is a value (no allocation, cheap to copy). Lookups never fail: an unmapped key gives
// ch == 0 and the caller decides (ScanAssembler rejects the scan naming the key code). Dead
// keys (DE ^ ´ `, FR ^ ¨, ...) are reported as dead; compose() combines them with the next
// character the way a Linux/Windows layout does. Characters are Unicode code points.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "hal/result.hpp"

namespace hal {

class Keymap {
 public:
  struct Symbol {
    char32_t ch = 0;    // 0: the key produces no character at this level
    bool dead = false;  // ch is the spacing accent of a dead key (^ ´ ` ¨ ~)
  };

  // "us" (default), "de", "fr", "uk" (also accepted: "gb"). Error names the known layouts.
  static Result<Keymap> by_name(std::string_view name);
  static Keymap us();

  std::string_view name() const { return name_; }

  // The symbol for an evdev key code (KEY_*) with the given modifier state. Caps Lock inverts
  // Shift for alphabetic keys only (letters and, on DE, the umlauts), as the layouts do.
  Symbol lookup(std::uint16_t code, bool shift, bool altgr, bool caps) const;
  // The unshifted character of a key, for Ctrl+key control characters (Ctrl+] = GS on US).
  char32_t base(std::uint16_t code) const;

  // A dead key's accent followed by `next`: the precomposed letter (^ + e = ê), or 0 when
  // there is none (the caller then emits the accent and `next` separately). Space -> accent.
  static char32_t compose(char32_t accent, char32_t next);

  static constexpr std::size_t kKeys = 128;  // evdev codes below this cover every layout key
  enum Level { kBase, kShift, kAltGr, kShiftAltGr, kLevels };

 private:
  struct Entry {
    std::array<char32_t, kLevels> ch{};
    std::uint8_t dead = 0;  // bit per Level
    bool alpha = false;
  };
  friend struct KeymapBuilder;

  std::string_view name_ = "us";
  std::array<Entry, kKeys> keys_{};
};

}  // namespace hal
