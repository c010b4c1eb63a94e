// SPDX-License-Identifier: Apache-2.0
#include "agent/scan/gs1.hpp"

#include <cstdio>
#include <optional>

namespace agent::gs1 {
namespace {

constexpr char kGs = '\x1d';

struct Spec {
  std::string_view ai;
  char format;  // 'N' digits, 'X' GS1 character set 82
  unsigned min;
  unsigned max;
  bool check = false;  // last digit is a mod-10 check digit
  bool date = false;   // starts with YYMMDD
  std::string_view title;
};

// Fixed-length fields are those with min == max. Source: GS1 General Specifications,
// section 3 (AI definitions) and figure 7.8.5-2 (predefined length table).
constexpr Spec kSpecs[] = {
    {"00", 'N', 18, 18, true, false, "SSCC"},
    {"01", 'N', 14, 14, true, false, "GTIN"},
    {"02", 'N', 14, 14, true, false, "CONTENT"},
    {"10", 'X', 1, 20, false, false, "BATCH/LOT"},
    {"11", 'N', 6, 6, false, true, "PROD DATE"},
    {"12", 'N', 6, 6, false, true, "DUE DATE"},
    {"13", 'N', 6, 6, false, true, "PACK DATE"},
    {"15", 'N', 6, 6, false, true, "BEST BEFORE or BEST BY"},
    {"16", 'N', 6, 6, false, true, "SELL BY"},
    {"17", 'N', 6, 6, false, true, "USE BY or EXPIRY"},
    {"20", 'N', 2, 2, false, false, "VARIANT"},
    {"21", 'X', 1, 20, false, false, "SERIAL"},
    {"22", 'X', 1, 20, false, false, "CPV"},
    {"240", 'X', 1, 30, false, false, "ADDITIONAL ID"},
    {"241", 'X', 1, 30, false, false, "CUST. PART No."},
    {"242", 'N', 1, 6, false, false, "MTO VARIANT"},
    {"250", 'X', 1, 30, false, false, "SECONDARY SERIAL"},
    {"251", 'X', 1, 30, false, false, "REF. TO SOURCE"},
    {"30", 'N', 1, 8, false, false, "VAR. COUNT"},
    {"37", 'N', 1, 8, false, false, "COUNT"},
    {"400", 'X', 1, 30, false, false, "ORDER NUMBER"},
    {"401", 'X', 1, 30, false, false, "GINC"},
    {"410", 'N', 13, 13, true, false, "SHIP TO LOC"},
    {"411", 'N', 13, 13, true, false, "BILL TO"},
    {"412", 'N', 13, 13, true, false, "PURCHASE FROM"},
    {"413", 'N', 13, 13, true, false, "SHIP FOR LOC"},
    {"414", 'N', 13, 13, true, false, "LOC No."},
    {"420", 'X', 1, 20, false, false, "SHIP TO POST"},
    {"7003", 'N', 10, 10, false, true, "EXPIRY TIME"},
    {"8004", 'X', 1, 30, false, false, "GIAI"},
    {"90", 'X', 1, 30, false, false, "INTERNAL"},
};
// 31nn-36nn (trade measures, n6) and 91-99 (company internal, X..90) are families.
constexpr Spec kMeasure{"", 'N', 6, 6, false, false, "MEASURE"};
constexpr Spec kInternal{"", 'X', 1, 90, false, false, "INTERNAL"};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (!is_digit(c)) {
      return false;
    }
  }
  return !s.empty();
}

std::optional<Spec> find_spec(std::string_view ai) {
  for (const auto& s : kSpecs) {
    if (s.ai == ai) {
      return s;
    }
  }
  if (ai.size() == 4 && ai[0] == '3' && ai[1] >= '1' && ai[1] <= '6' && all_digits(ai)) {
    return kMeasure;
  }
  if (ai.size() == 2 && ai[0] == '9' && ai[1] >= '1' && ai[1] <= '9') {
    return kInternal;
  }
  return std::nullopt;
}

// The AIs whose length GS1 fixes by their first two digits: these never need a separator.
bool predefined_length(std::string_view ai) {
  static constexpr std::string_view kPrefixes[] = {"00", "01", "02", "03", "04", "11", "12", "13",
                                                   "14", "15", "16", "17", "18", "19", "20", "31",
                                                   "32", "33", "34", "35", "36", "41"};
  for (auto p : kPrefixes) {
    if (ai.substr(0, 2) == p) {
      return true;
    }
  }
  return false;
}

// The AI at the start of `s` (2 to 4 digits), if it is a known one.
std::optional<std::string> match_ai(std::string_view s) {
  for (std::size_t n = 2; n <= 4 && n <= s.size(); ++n) {
    if (!all_digits(s.substr(0, n))) {
      return std::nullopt;
    }
    if (find_spec(s.substr(0, n))) {
      return std::string(s.substr(0, n));
    }
  }
  return std::nullopt;
}

// GS1 character set 82 (General Specifications figure 7.11-1).
bool cset82(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c)) {
    return true;
  }
  return std::string_view("!\"%&'()*+,-./:;<=>?_").find(c) != std::string_view::npos;
}

std::string where(std::string_view ai, std::size_t at) {
  return "gs1: AI (" + std::string(ai) + ") at byte " + std::to_string(at) + ": ";
}

std::string char_name(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u >= 0x7F) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", u);
    return buf;
  }
  return std::string("'") + c + "'";
}

bool valid_date(std::string_view d) {
  int yy = (d[0] - '0') * 10 + (d[1] - '0');
  int mm = (d[2] - '0') * 10 + (d[3] - '0');
  int dd = (d[4] - '0') * 10 + (d[5] - '0');
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mm < 1 || mm > 12) {
    return false;
  }
  int max = kDays[mm - 1];
  if (mm == 2 && yy % 4 != 0) {
    max = 28;  // GS1 years are 20YY or 19YY; none of the centuries in range is a leap exception
  }
  return dd <= max;  // DD 00: the date is a month, which GS1 allows
}

// Checks one value against its AI's rules; `at` is the value's byte offset in the scan.
hal::Status check_value(std::string_view ai, const Spec& spec, std::string_view value, std::size_t at) {
  std::size_t ai_at = at - ai.size();
  if (value.empty()) {
    return hal::Error(hal::Errc::parse, where(ai, ai_at) + "empty value");
  }
  if (value.size() > spec.max) {
    return hal::Error(hal::Errc::parse, where(ai, ai_at) + "value is " + std::to_string(value.size()) +
                                            " characters, longest allowed is " + std::to_string(spec.max));
  }
  if (value.size() < spec.min) {
    return hal::Error(hal::Errc::parse, where(ai, ai_at) + "value is " + std::to_string(value.size()) +
                                            " characters, needs " + std::to_string(spec.min));
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    bool good = spec.format == 'N' ? is_digit(value[i]) : cset82(value[i]);
    if (!good) {
      return hal::Error(hal::Errc::parse, where(ai, ai_at) +
                                              (spec.format == 'N' ? "non-digit " : "invalid character ") +
                                              char_name(value[i]) + " at byte " + std::to_string(at + i));
    }
  }
  if (spec.check && !check_digit_ok(value)) {
    return hal::Error(hal::Errc::parse, where(ai, ai_at) + "check digit is " + std::string(1, value.back()) +
                                            ", expected " +
                                            std::string(1, check_digit(value.substr(0, value.size() - 1))));
  }
  if (spec.date && !valid_date(value)) {
    return hal::Error(hal::Errc::parse,
                      where(ai, ai_at) + "'" + std::string(value.substr(0, 6)) + "' is not a date (YYMMDD)");
  }
  return hal::ok();
}

hal::Status store(Fields& out, const std::string& ai, std::string_view value, std::size_t ai_at) {
  auto [it, inserted] = out.emplace(ai, std::string(value));
  if (!inserted && it->second != value) {
    return hal::Error(hal::Errc::parse, where(ai, ai_at) + "repeats with a different value ('" + it->second +
                                            "', then '" + std::string(value) + "')");
  }
  return hal::ok();
}

hal::Result<Fields> parse_unbracketed_impl(std::string_view data, std::size_t offset, bool hint);

// A variable field failed: if a known AI starts inside it and the rest parses from there, the
// scanner (or label) left out the GS that must end a variable-length field.
std::optional<hal::Error> missing_gs(std::string_view ai, std::string_view data, std::size_t value_pos,
                                     std::size_t end, std::size_t offset) {
  // Longest plausible value first: a lot "1210" followed by AI 10 beats a lot "1" and AI 21.
  const Spec spec = *find_spec(ai);
  std::size_t last = std::min(end, value_pos + spec.max);
  for (std::size_t i = last; i > value_pos; --i) {
    if (i + 2 > end) {
      continue;
    }
    auto next = match_ai(data.substr(i));
    if (!next) {
      continue;
    }
    if (check_value(ai, spec, data.substr(value_pos, i - value_pos), offset + value_pos).ok() &&
        parse_unbracketed_impl(data.substr(i), offset + i, false).ok()) {
      return hal::Error(hal::Errc::parse,
                        where(ai, offset + value_pos - ai.size()) +
                            "missing GS separator: the variable-length value runs into AI (" + *next +
                            ") at byte " + std::to_string(offset + i));
    }
  }
  return std::nullopt;
}

hal::Result<Fields> parse_unbracketed_impl(std::string_view data, std::size_t offset, bool hint) {
  Fields out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    if (data[pos] == kGs) {
      ++pos;  // FNC1 in first position, or the separator after a field
      continue;
    }
    auto ai = match_ai(data.substr(pos));
    if (!ai) {
      std::string head(data.substr(pos, 4));
      for (char& c : head) {
        c = is_digit(c) ? c : '?';
      }
      return hal::Error(hal::Errc::parse,
                        "gs1: unknown AI at byte " + std::to_string(offset + pos) + " ('" + head + "')");
    }
    Spec spec = *find_spec(*ai);
    std::size_t ai_at = pos;
    std::size_t value_pos = pos + ai->size();
    std::size_t end;
    if (spec.min == spec.max && predefined_length(*ai)) {
      end = std::min(data.size(), value_pos + spec.max);
    } else {
      end = data.find(kGs, value_pos);
      end = end == std::string_view::npos ? data.size() : end;
    }
    std::string_view value = data.substr(value_pos, end - value_pos);
    if (auto st = check_value(*ai, spec, value, offset + value_pos); !st.ok()) {
      if (hint && spec.min != spec.max) {
        if (auto gs = missing_gs(*ai, data, value_pos, end, offset)) {
          return std::move(*gs);
        }
      }
      return std::move(st).error();
    }
    if (auto st = store(out, *ai, value, offset + ai_at); !st.ok()) {
      return std::move(st).error();
    }
    pos = end;
  }
  if (out.empty()) {
    return hal::Error(hal::Errc::parse, "gs1: no element string at byte " + std::to_string(offset));
  }
  return out;
}

}  // namespace

bool check_digit_ok(std::string_view digits) {
  return digits.size() >= 2 && all_digits(digits) &&
         check_digit(digits.substr(0, digits.size() - 1)) == digits.back();
}

char check_digit(std::string_view digits) {
  int sum = 0;
  int weight = 3;  // from the right: 3, 1, 3, 1, ...
  for (std::size_t i = digits.size(); i-- > 0;) {
    sum += (digits[i] - '0') * weight;
    weight = 4 - weight;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

std::string_view title(std::string_view ai) {
  auto s = find_spec(ai);
  return s ? s->title : std::string_view{};
}

bool looks_bracketed(std::string_view data) {
  auto close = data.find(')');
  return data.size() >= 4 && data[0] == '(' && close != std::string_view::npos && close >= 3 && close <= 5 &&
         all_digits(data.substr(1, close - 1));
}

hal::Result<Fields> parse_unbracketed(std::string_view data, std::size_t offset) {
  return parse_unbracketed_impl(data, offset, true);
}

hal::Result<Fields> parse_bracketed(std::string_view data, std::size_t offset) {
  Fields out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    if (data[pos] != '(') {
      return hal::Error(hal::Errc::parse, "gs1: expected '(' at byte " + std::to_string(offset + pos) +
                                              ", found " + char_name(data[pos]));
    }
    auto close = data.find(')', pos);
    if (close == std::string_view::npos || close - pos < 3 || close - pos > 5 ||
        !all_digits(data.substr(pos + 1, close - pos - 1))) {
      return hal::Error(hal::Errc::parse, "gs1: malformed AI at byte " + std::to_string(offset + pos) +
                                              " (expected '(' 2-4 digits ')')");
    }
    std::string ai(data.substr(pos + 1, close - pos - 1));
    auto spec = find_spec(ai);
    if (!spec) {
      return hal::Error(hal::Errc::parse,
                        "gs1: unknown AI (" + ai + ") at byte " + std::to_string(offset + pos));
    }
    std::size_t value_pos = close + 1;
    std::size_t end = data.find('(', value_pos);
    end = end == std::string_view::npos ? data.size() : end;
    std::string_view value = data.substr(value_pos, end - value_pos);
    if (auto st = check_value(ai, *spec, value, offset + value_pos); !st.ok()) {
      // Report the AI where the bracket starts, which is what a person reading the text sees.
      std::string what = st.error().what;
      auto cut = what.find(" at byte ");
      auto colon = what.find(": ", cut);
      what = "gs1: AI (" + ai + ") at byte " + std::to_string(offset + pos) + what.substr(colon);
      return hal::Error(hal::Errc::parse, std::move(what));
    }
    if (auto st = store(out, ai, value, offset + pos); !st.ok()) {
      return std::move(st).error();
    }
    pos = end;
  }
  if (out.empty()) {
    return hal::Error(hal::Errc::parse, "gs1: no element string at byte " + std::to_string(offset));
  }
  return out;
}

hal::Result<Fields> parse(std::string_view data, std::size_t offset) {
  return looks_bracketed(data) ? parse_bracketed(data, offset) : parse_unbracketed(data, offset);
}

}  // namespace agent::gs1
