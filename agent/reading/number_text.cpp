// SPDX-License-Identifier: Apache-2.0
#include "agent/reading/number_text.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace agent {
namespace {

constexpr std::size_t kBuf = 64;  // the buffer the <charconv> calls were given

// v in %e with `digits` significant digits; empty if it does not read back as v.
std::string scientific_if_exact(double v, int digits) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
  return std::strtod(buf, nullptr) == v ? std::string(buf) : std::string();
}

// "[-]d.ddde±XX" from the significant digits and the decimal exponent (the %e layout).
std::string with_exponent(bool negative, const std::string& digits, int exp) {
  std::string out = negative ? "-" : "";
  out += digits[0];
  if (digits.size() > 1) {
    out += '.';
    out.append(digits, 1, std::string::npos);
  }
  char tail[8];
  std::snprintf(tail, sizeof tail, "e%+03d", exp);
  return out + tail;
}

// The decimal of the same length next to `sci` ("[-]d.ddde±X"), one unit of its last digit
// away from zero (step 1) or towards it (step -1): 9.99e+05 -> 1.00e+06, 1.00e+06 -> 9.99e+05.
std::string nudged(const std::string& sci, int step) {
  const bool negative = sci[0] == '-';
  const std::size_t e = sci.find('e');
  unsigned long long m = 0;
  int digits = 0;
  for (std::size_t i = negative ? 1 : 0; i < e; ++i) {
    if (sci[i] != '.') {
      m = m * 10 + static_cast<unsigned>(sci[i] - '0');
      ++digits;
    }
  }
  int exp = std::atoi(sci.c_str() + e + 1);
  unsigned long long low = 1;  // 10^(digits-1)
  for (int i = 1; i < digits; ++i) {
    low *= 10;
  }
  m = step > 0 ? m + 1 : m - 1;
  if (m == low * 10) {
    m = low;
    ++exp;
  } else if (m < low) {
    m = low * 10 - 1;
    --exp;
  }
  return with_exponent(negative, std::to_string(m), exp);
}

}  // namespace

std::string format_fixed(double v, int places) {
  if (!std::isfinite(v)) {
    return {};
  }
  char buf[kBuf + 1];  // to_chars needs no room for a NUL
  const int n = std::snprintf(buf, sizeof buf, "%.*f", places, v);
  return n >= 0 && static_cast<std::size_t>(n) <= kBuf ? std::string(buf, static_cast<std::size_t>(n))
                                                       : std::string();
}

std::string format_shortest(double v) {
  if (!std::isfinite(v)) {
    return {};
  }
  // The fewest significant digits that read back as v (Ryu's shortest). snprintf gives the
  // nearest decimal of that length; where v's rounding interval is lopsided (a power of two)
  // a neighbour of it may read back when it does not, so both are tried, the nearer first.
  std::string sci;
  for (int digits = 1; digits <= 17 && sci.empty(); ++digits) {
    sci = scientific_if_exact(v, digits);
    if (sci.empty()) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
      const std::string near(buf);
      for (int step : {1, -1}) {
        const std::string n = nudged(near, step);
        if (std::strtod(n.c_str(), nullptr) == v) {
          sci = n;
          break;
        }
      }
    }
  }
  // sci is "[-]d[.ddd]e±XX": split into sign, digits (trailing zeros dropped), exponent.
  const bool negative = sci[0] == '-';
  const std::size_t e = sci.find('e');
  std::string digits;
  for (std::size_t i = negative ? 1 : 0; i < e; ++i) {
    if (sci[i] != '.') {
      digits += sci[i];
    }
  }
  while (digits.size() > 1 && digits.back() == '0') {
    digits.pop_back();
  }
  const int exp = std::atoi(sci.c_str() + e + 1);
  if (exp < -4 || exp >= 6) {  // %g's rule with its default precision 6
    return with_exponent(negative, digits, exp);
  }
  std::string out = negative ? "-" : "";
  if (exp < 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exp - 1), '0');
    out += digits;
  } else {
    const std::size_t whole = static_cast<std::size_t>(exp) + 1;
    if (digits.size() <= whole) {
      out += digits;
      out.append(whole - digits.size(), '0');
    } else {
      out.append(digits, 0, whole);
      out += '.';
      out.append(digits, whole, std::string::npos);
    }
  }
  return out.size() <= kBuf ? out : std::string();
}

bool parse_double(std::string_view text, double& v) {
  // strtod takes more than from_chars: leading spaces, '+', "0x", "inf", "nan". Refuse
  // anything that does not start as from_chars' form does, and require every character used.
  if (text.empty()) {
    return false;
  }
  const char c0 = text[0];
  const char c1 = text.size() > 1 ? text[1] : '\0';
  const auto digit_or_dot = [](char c) { return (c >= '0' && c <= '9') || c == '.'; };
  if (!(digit_or_dot(c0) || (c0 == '-' && digit_or_dot(c1)))) {
    return false;
  }
  for (char c : text) {
    if (!(digit_or_dot(c) || c == '-' || c == '+' || c == 'e' || c == 'E')) {
      return false;  // no hex digits, 'x', 'p', "inf", "nan", spaces
    }
  }
  const std::string s(text);  // strtod needs a terminator
  char* end = nullptr;
  errno = 0;
  const double r = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) {
    return false;
  }
  // ERANGE: overflow (±HUGE_VAL) and underflow; from_chars refuses only an overflow and a
  // result rounded to zero, and keeps a subnormal.
  if (errno == ERANGE && (std::isinf(r) || r == 0)) {
    return false;
  }
  v = r;
  return true;
}

}  // namespace agent
