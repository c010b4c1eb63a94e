// SPDX-License-Identifier: Apache-2.0
#include "hal/scan_assembler.hpp"

#include <cstdio>
#include <utility>

namespace hal {
namespace {

constexpr char32_t kGs = 0x1D;

void append_utf8(std::string& s, char32_t c) {
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xC0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xE0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  }
}

int keypad_digit(std::uint16_t code) {
  switch (code) {
    case KEY_KP0:
      return 0;
    case KEY_KP1:
      return 1;
    case KEY_KP2:
      return 2;
    case KEY_KP3:
      return 3;
    case KEY_KP4:
      return 4;
    case KEY_KP5:
      return 5;
    case KEY_KP6:
      return 6;
    case KEY_KP7:
      return 7;
    case KEY_KP8:
      return 8;
    case KEY_KP9:
      return 9;
    default:
      return -1;
  }
}

// Keys that give the same character in every layout (keypad with Num Lock on, and the
// control keys, which then fail the control-character check with their ASCII code).
char32_t fixed_key(std::uint16_t code) {
  int d = keypad_digit(code);
  if (d >= 0) {
    return static_cast<char32_t>(U'0' + d);
  }
  switch (code) {
    case KEY_KPDOT:
      return U'.';
    case KEY_KPSLASH:
      return U'/';
    case KEY_KPASTERISK:
      return U'*';
    case KEY_KPMINUS:
      return U'-';
    case KEY_KPPLUS:
      return U'+';
    case KEY_KPEQUAL:
      return U'=';
    case KEY_KPCOMMA:
      return U',';
    case KEY_ENTER:
    case KEY_KPENTER:
      return 0x0D;
    case KEY_TAB:
      return 0x09;
    case KEY_BACKSPACE:
      return 0x08;
    case KEY_ESC:
      return 0x1B;
    default:
      return 0;
  }
}

bool is_control(char32_t c) {
  return (c < 0x20 && c != kGs) || (c >= 0x7F && c <= 0x9F);
}

}  // namespace

Result<ScanAssemblerOptions::Terminator> parse_terminator(std::string_view name) {
  using T = ScanAssemblerOptions::Terminator;
  if (name == "enter") {
    return T::enter;
  }
  if (name == "tab") {
    return T::tab;
  }
  if (name == "none") {
    return T::none;
  }
  return Error(Errc::config, "scanner: unknown terminator '" + std::string(name) + "' (enter, tab, none)");
}

std::optional<std::string> aim_identifier(std::string_view text) {
  auto alnum = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  };
  if (text.size() >= 3 && text[0] == ']' && alnum(text[1]) && alnum(text[2])) {
    return std::string(text.substr(0, 3));
  }
  return std::nullopt;
}

ScanAssembler::ScanAssembler(ScanAssemblerOptions options) : options_(std::move(options)) {}

void ScanAssembler::feed(const input_event& ev, std::vector<ScanRead>& out) {
  if (ev.type == EV_SYN) {
    if (ev.code == SYN_DROPPED) {
      on_dropped(out);
    } else if (ev.code == SYN_REPORT) {
      skip_to_report_ = false;
    }
    return;
  }
  if (skip_to_report_ || ev.type != EV_KEY) {
    return;  // EV_MSC scan codes, EV_LED echoes: not text
  }
  Micros t = static_cast<Micros>(ev.input_event_sec) * 1000000U + static_cast<Micros>(ev.input_event_usec);
  on_key(ev.code, ev.value, t, out);
}

void ScanAssembler::on_key(std::uint16_t code, int value, Micros t, std::vector<ScanRead>& out) {
  if (value == 2) {
    return;  // kernel autorepeat of a held key: a scanner never means it
  }
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(options_.gap).count();
  Micros gap = us > 0 ? static_cast<Micros>(us) : 0;
  if (gap > 0 && last_event_ && pending() && t > *last_event_ && t - *last_event_ > gap) {
    flush_idle(out);
  }
  last_event_ = t;
  if (on_modifier(code, value)) {
    return;
  }
  if (value == 1) {
    on_press(code, out);
  }
}

bool ScanAssembler::on_modifier(std::uint16_t code, int value) {
  bool down = value != 0;
  switch (code) {
    case KEY_LEFTSHIFT:
      shift_l_ = down;
      return true;
    case KEY_RIGHTSHIFT:
      shift_r_ = down;
      return true;
    case KEY_LEFTCTRL:
    case KEY_RIGHTCTRL:
      ctrl_ = down;
      return true;
    case KEY_LEFTALT:
    case KEY_RIGHTALT:
      (code == KEY_LEFTALT ? alt_ : altgr_) = down;
      if (!down && alt_code_ && !discarding_) {
        // Alt released: the keypad digits typed under it name one code point (decimal).
        std::uint32_t v = *alt_code_;
        alt_code_.reset();
        if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
          reject("Alt+keypad code " + std::to_string(v) + " at byte " + std::to_string(text_.size()) +
                 " is not a character");
        } else {
          put(static_cast<char32_t>(v));
        }
      }
      return true;
    case KEY_CAPSLOCK:
      if (down) {
        caps_ = !caps_;
      }
      return true;
    case KEY_NUMLOCK:
    case KEY_SCROLLLOCK:
    case KEY_LEFTMETA:
    case KEY_RIGHTMETA:
      return true;
    default:
      return false;
  }
}

bool ScanAssembler::is_terminator(std::uint16_t code) const {
  switch (options_.terminator) {
    case ScanAssemblerOptions::Terminator::enter:
      return code == KEY_ENTER || code == KEY_KPENTER;
    case ScanAssemblerOptions::Terminator::tab:
      return code == KEY_TAB;
    case ScanAssemblerOptions::Terminator::none:
      return false;
  }
  return false;
}

void ScanAssembler::on_press(std::uint16_t code, std::vector<ScanRead>& out) {
  if (discarding_) {
    if (is_terminator(code)) {
      discarding_ = false;  // the interrupted scan's tail ends here; it was already reported
      clear_scan();
    }
    return;
  }
  int digit = keypad_digit(code);
  if ((alt_ || altgr_) && digit >= 0) {
    std::uint32_t v = alt_code_.value_or(0);
    alt_code_ = v > 0x10FFFF ? v : v * 10 + static_cast<std::uint32_t>(digit);
    started_ = true;
    return;
  }
  if (is_terminator(code) && !ctrl_ && !alt_) {
    finish(out);
    return;
  }
  started_ = true;
  std::string at = " at byte " + std::to_string(text_.size());
  if (options_.gs_key != 0 && code == options_.gs_key) {
    put(kGs);
    return;
  }
  if (ctrl_) {
    char32_t b = options_.keymap.base(code);
    if (b >= U'a' && b <= U'z') {
      put(b - U'a' + 1);
    } else if (b >= U'@' && b <= U'_') {
      put(b & 0x1F);
    } else {
      reject("Ctrl+key code " + std::to_string(code) + at + " is not a control character");
    }
    return;
  }
  if (char32_t f = fixed_key(code); f != 0) {
    put(f);
    return;
  }
  if (alt_) {
    reject("Alt+key code " + std::to_string(code) + at + " is not a character");
    return;
  }
  auto sym = options_.keymap.lookup(code, shift_l_ || shift_r_, altgr_, caps_);
  if (sym.ch == 0) {
    reject("key code " + std::to_string(code) + at + " has no character in keymap '" +
           std::string(options_.keymap.name()) + "'");
  } else if (sym.dead) {
    if (dead_ != 0) {
      char32_t c = Keymap::compose(dead_, sym.ch);
      put_raw(c != 0 ? c : dead_);
      dead_ = c != 0 ? 0 : sym.ch;
    } else {
      dead_ = sym.ch;
    }
  } else {
    put(sym.ch);
  }
}

void ScanAssembler::on_dropped(std::vector<ScanRead>& out) {
  // The kernel lost events: whatever scan was in progress is incomplete, and its remaining
  // keys (still to come) must not form a scan of their own. Report now, discard the tail.
  started_ = true;
  finish(out, "input events dropped by the kernel (SYN_DROPPED); scan discarded, scan again");
  shift_l_ = shift_r_ = ctrl_ = alt_ = altgr_ = false;
  skip_to_report_ = true;
  discarding_ = true;
}

void ScanAssembler::flush_idle(std::vector<ScanRead>& out) {
  if (discarding_) {
    discarding_ = false;
    clear_scan();
    return;
  }
  if (!started_) {
    return;
  }
  if (options_.terminator == ScanAssemblerOptions::Terminator::none) {
    finish(out);
  } else {
    finish(out, "scan ended without its terminator (no key for more than " +
                    std::to_string(options_.gap.count()) + " ms); incomplete read");
  }
}

void ScanAssembler::abandon(const std::string& why, std::vector<ScanRead>& out) {
  if (started_ && !discarding_) {
    finish(out, why);
  }
  clear_scan();
  discarding_ = false;
}

void ScanAssembler::put(char32_t ch) {
  if (dead_ != 0) {
    char32_t c = Keymap::compose(dead_, ch);
    char32_t accent = dead_;
    dead_ = 0;
    if (c != 0) {
      put_raw(c);
      return;
    }
    put_raw(accent);
  }
  put_raw(ch);
}

void ScanAssembler::put_raw(char32_t ch) {
  if (!error_.empty()) {
    return;  // rejected already: keep the text as it was at the first problem
  }
  if (is_control(ch)) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(ch));
    reject(std::string("control character ") + buf + " at byte " + std::to_string(text_.size()) +
           " (only GS, 0x1D, is allowed)");
    return;
  }
  std::string enc;
  append_utf8(enc, ch);
  if (text_.size() + enc.size() > options_.max_length) {
    reject("scan longer than " + std::to_string(options_.max_length) + " bytes");
    return;
  }
  text_ += enc;
}

void ScanAssembler::reject(std::string why) {
  started_ = true;
  if (error_.empty()) {
    error_ = std::move(why);
  }
}

void ScanAssembler::finish(std::vector<ScanRead>& out, std::string error) {
  if (!started_ && error.empty()) {
    clear_scan();  // a lone terminator: nothing was scanned
    return;
  }
  if (dead_ != 0) {
    put_raw(dead_);  // a dead key with nothing after it types its accent
    dead_ = 0;
  }
  ScanRead r;
  r.text = std::move(text_);
  r.error = !error.empty() ? std::move(error) : std::move(error_);
  out.push_back(std::move(r));
  clear_scan();
}

void ScanAssembler::clear_scan() {
  text_.clear();
  error_.clear();
  started_ = false;
  dead_ = 0;
  alt_code_.reset();
}

void ScanAssembler::set_key_state(const std::uint8_t* bits, std::size_t len) {
  auto down = [&](unsigned code) { return code / 8 < len && (bits[code / 8] & (1U << (code % 8))) != 0; };
  shift_l_ = down(KEY_LEFTSHIFT);
  shift_r_ = down(KEY_RIGHTSHIFT);
  ctrl_ = down(KEY_LEFTCTRL) || down(KEY_RIGHTCTRL);
  alt_ = down(KEY_LEFTALT);
  altgr_ = down(KEY_RIGHTALT);
}

void ScanAssembler::reset() {
  clear_scan();
  shift_l_ = shift_r_ = ctrl_ = alt_ = altgr_ = caps_ = false;
  discarding_ = skip_to_report_ = false;
  last_event_.reset();
}

void append_scan_events(std::vector<ScanRead>& reads, std::string_view input, Clock::MonoTime now,
                        std::vector<StationEvent>& out) {
  for (auto& r : reads) {
    StationEvent ev;
    ev.kind = StationEvent::Kind::scan;
    ev.input = std::string(input);
    ev.symbology = aim_identifier(r.text);
    ev.text = std::move(r.text);
    ev.error = std::move(r.error);
    ev.at = now;
    out.push_back(std::move(ev));
  }
}

}  // namespace hal
