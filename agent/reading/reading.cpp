// SPDX-License-Identifier: Apache-2.0
#include "agent/reading/reading.hpp"

#include <cmath>
#include <cstring>

#include "agent/reading/number_text.hpp"

namespace agent {
namespace {

constexpr std::size_t kMaxLine = 256;  // longer replies are refused unread

// A number as instruments write it: optional sign, digits with an optional decimal point,
// optional exponent.
#define ION_NUMBER "[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?"
#define ION_SP "[[:space:]]"

struct Preset {
  const char* name;
  const char* ere;
  std::size_t value_group;
  std::size_t unit_group;
  std::size_t flag_group;
  const char* stable_flag;
  std::vector<std::pair<const char*, const char*>> refusals;  // whole-line ERE, reason
  bool scpi;
};

const std::vector<Preset>& presets() {
  static const std::vector<Preset> k = {
      // S S|D <weight> <unit>: the weight is right-aligned in a 10-character field.
      {"mt-sics",
       ION_SP "*S" ION_SP "+([SD])" ION_SP "+(" ION_NUMBER ")" ION_SP "+([^[:space:]]+)" ION_SP "*",
       2,
       5,
       1,
       "S",
       {{ION_SP "*S" ION_SP "+I" ION_SP "*.*", "balance busy (S I: command not executable now)"},
        {ION_SP "*S" ION_SP "+[+]" ION_SP "*", "overload (S +: weight above the weighing range)"},
        {ION_SP "*S" ION_SP "+-" ION_SP "*", "underload (S -: weight below the weighing range)"},
        {ION_SP "*ES" ION_SP "*", "syntax error (ES: command not understood)"},
        {ION_SP "*ET" ION_SP "*", "transmission error (ET)"},
        {ION_SP "*EL" ION_SP "*", "logical error (EL: command cannot be executed)"}},
       false},
      {"scpi", ION_SP "*(" ION_NUMBER ")" ION_SP "*", 1, 0, 0, "", {}, true},
      {"line",
       ION_SP "*(" ION_NUMBER ")(" ION_SP "*([^-+.0-9[:space:]][^[:space:]]*))?" ION_SP "*",
       1,
       5,
       0,
       "",
       {},
       false},
  };
  return k;
}

const Preset* find_preset(const std::string& name) {
  for (const auto& p : presets()) {
    if (name == p.name) {
      return &p;
    }
  }
  return nullptr;
}

struct Unit {
  const char* name;
  const char* family;
  double factor;  // to the family's base unit
};

// UTF-8 spellings: "µ" (U+00B5) and "μ" (U+03BC) for micro, "·" (U+00B7) for the product dot.
constexpr Unit kUnits[] = {
    {"mg", "mass", 1e-3},
    {"g", "mass", 1},
    {"kg", "mass", 1e3},
    {"lb", "mass", 453.59237},
    {"oz", "mass", 28.349523125},
    {"N\xC2\xB7m", "torque", 1},
    {"Nm", "torque", 1},
    {"N.m", "torque", 1},
    {"cN\xC2\xB7m", "torque", 1e-2},
    {"cNm", "torque", 1e-2},
    {"cN.m", "torque", 1e-2},
    {"mN\xC2\xB7m", "torque", 1e-3},
    {"mNm", "torque", 1e-3},
    {"mN.m", "torque", 1e-3},
    {"\xC2\xB5V", "voltage", 1e-6},
    {"\xCE\xBCV", "voltage", 1e-6},
    {"uV", "voltage", 1e-6},
    {"mV", "voltage", 1e-3},
    {"V", "voltage", 1},
    {"kV", "voltage", 1e3},
    {"\xC2\xB5"
     "A",
     "current", 1e-6},
    {"\xCE\xBC"
     "A",
     "current", 1e-6},
    {"uA", "current", 1e-6},
    {"mA", "current", 1e-3},
    {"A", "current", 1},
    {"mOhm", "resistance", 1e-3},
    {"m\xCE\xA9", "resistance", 1e-3},
    {"Ohm", "resistance", 1},
    {"\xCE\xA9", "resistance", 1},
    {"kOhm", "resistance", 1e3},
    {"k\xCE\xA9", "resistance", 1e3},
    {"MOhm", "resistance", 1e6},
    {"M\xCE\xA9", "resistance", 1e6},
    {"\xC2\xB5m", "length", 1e-6},
    {"\xCE\xBCm", "length", 1e-6},
    {"um", "length", 1e-6},
    {"mm", "length", 1e-3},
    {"cm", "length", 1e-2},
    {"m", "length", 1},
    {"in", "length", 0.0254},
};

const Unit* find_unit(const std::string& name) {
  for (const auto& u : kUnits) {
    if (name == u.name) {
      return &u;
    }
  }
  return nullptr;
}

// Decimal places of a plain decimal number ("12.340" -> 3); -1 with an exponent.
int decimals(const std::string& num) {
  if (num.find_first_of("eE") != std::string::npos) {
    return -1;
  }
  std::size_t dot = num.find('.');
  return dot == std::string::npos ? 0 : static_cast<int>(num.size() - dot - 1);
}

// The text of `v` (converted from `num` by `factor`), keeping the precision the instrument gave.
std::string value_text(const std::string& num, double v, double factor) {
  int places = decimals(num);
  if (places >= 0 && factor == 1.0) {
    std::string t = num[0] == '+' ? num.substr(1) : num;
    if (!t.empty() && t[0] == '.') {
      t.insert(0, "0");
    } else if (t.size() > 1 && t[0] == '-' && t[1] == '.') {
      t.insert(1, "0");
    }
    if (!t.empty() && t.back() == '.') {
      t.pop_back();
    }
    return t;
  }
  double decade = std::log10(factor);
  if (places >= 0 && std::fabs(decade - std::round(decade)) < 1e-9) {
    int p = places - static_cast<int>(std::lround(decade));
    return format_fixed(v, p < 0 ? 0 : (p > 12 ? 12 : p));
  }
  return format_shortest(v);
}

}  // namespace

const char* dialect_names() noexcept {
  return "mt-sics, scpi, line";
}

bool is_dialect(const std::string& name) noexcept {
  return find_preset(name) != nullptr;
}

std::optional<double> unit_factor(const std::string& from, const std::string& to) {
  if (from == to) {
    return 1.0;
  }
  const Unit* f = find_unit(from);
  const Unit* t = find_unit(to);
  if (f == nullptr || t == nullptr || std::strcmp(f->family, t->family) != 0) {
    return std::nullopt;
  }
  return f->factor / t->factor;
}

hal::Result<ReadingParser> ReadingParser::create(DialectOptions options) {
  ReadingParser p;
  if (!options.dialect.empty()) {
    const Preset* preset = find_preset(options.dialect);
    if (preset == nullptr) {
      return hal::Error(hal::Errc::config,
                        "unknown dialect '" + options.dialect + "' (expected " + dialect_names() + ")");
    }
    auto re = Regex::compile(preset->ere);
    if (!re.ok()) {
      return std::move(re).error().context("dialect " + options.dialect);
    }
    p.re_ = std::move(re).value();
    for (const auto& r : preset->refusals) {
      auto rr = Regex::compile(r.first);
      if (!rr.ok()) {
        return std::move(rr).error().context("dialect " + options.dialect);
      }
      p.refusals_.push_back({std::move(rr).value(), r.second});
    }
    p.value_group_ = preset->value_group;
    p.unit_group_ = preset->unit_group;
    p.flag_group_ = preset->flag_group;
    p.stable_flag_ = preset->stable_flag;
    p.scpi_ = preset->scpi;
  } else if (options.parse) {
    if (options.parse->groups() < 1) {
      return hal::Error(hal::Errc::config, "parse: needs a group for the value, e.g. \"([-+.0-9]+) g\"");
    }
    p.re_ = options.parse;
    p.value_group_ = 1;
    p.unit_group_ = options.parse->groups() >= 2 ? 2 : 0;
  } else {
    return hal::Error(hal::Errc::config, std::string("needs a dialect (") + dialect_names() + ") or parse");
  }
  p.options_ = std::move(options);
  return p;
}

hal::Result<Reading> ReadingParser::parse(const std::string& line) const {
  auto refuse = [](std::string why) { return hal::Error(hal::Errc::parse, std::move(why)); };
  if (line.size() > kMaxLine) {
    return refuse("reply longer than " + std::to_string(kMaxLine) + " bytes");
  }
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return refuse("reply has a control character");
    }
  }
  for (const auto& r : refusals_) {
    if (r.re.full_match(line)) {
      return refuse(r.reason);
    }
  }
  std::vector<std::string> g;
  if (!re_ || !re_->full_match(line, &g)) {
    return refuse("reply not understood");
  }
  Reading out;
  out.raw = line;
  if (flag_group_ != 0 && flag_group_ < g.size()) {
    out.stable = g[flag_group_] == stable_flag_;
    if (!out.stable && options_.stable_only) {
      return refuse("unstable weight (dynamic, not settled)");
    }
  }
  std::string num = value_group_ < g.size() ? g[value_group_] : std::string();
  // Only what a number looks like reaches parse_double (a custom parse may capture anything).
  static const Regex kNumber = Regex::compile(ION_SP "*" ION_NUMBER ION_SP "*").value();
  if (num.empty() || !kNumber.full_match(num)) {
    return refuse("no number in the reply");
  }
  std::size_t b = num.find_first_not_of(" \t");
  std::size_t e = num.find_last_not_of(" \t");
  num = num.substr(b, e - b + 1);
  double v = 0;
  if (!parse_double(std::string_view(num).substr(num[0] == '+' ? 1 : 0), v) || !std::isfinite(v)) {
    return refuse("value out of range");
  }
  if (scpi_ && std::fabs(v) >= 9.9e37) {
    return refuse(std::fabs(v) > 9.905e37 ? "not a number (SCPI 9.91E37)" : "overflow (SCPI 9.9E37)");
  }
  std::string unit = unit_group_ != 0 && unit_group_ < g.size() ? g[unit_group_] : std::string();
  double factor = 1.0;
  if (unit.empty()) {
    unit = options_.unit;
  } else if (!options_.unit.empty()) {
    auto f = unit_factor(unit, options_.unit);
    if (!f) {
      return refuse("unit '" + unit + "', expected '" + options_.unit + "'");
    }
    factor = *f;
    unit = options_.unit;
  }
  out.value = v * factor;
  if (!std::isfinite(out.value)) {
    return refuse("value out of range");
  }
  out.text = value_text(num, out.value, factor);
  if (out.text.empty()) {
    return refuse("value out of range");
  }
  out.unit = unit;
  return out;
}

}  // namespace agent
