// SPDX-License-Identifier: Apache-2.0
// Reading: what an instrument (scale, gauge, tester) replied, parsed into a number and a unit.
// A reply line is parsed by a dialect, which is data, not code per vendor: a POSIX ERE (the
// profile's engine, agent/profile/regex.hpp) whose capture groups are mapped to the value and
// the unit, plus whole-line refusals with their reason (overload, busy, error replies) and an
// optional stability flag. Presets:
//   mt-sics  Mettler-Toledo MT-SICS `S S     12.345 g` (stable) / `S D ...` (dynamic, refused
//            unless stable_only is false); `S I` (busy), `S +` (overload), `S -` (underload),
//            `ES`/`ET`/`EL` (syntax, transmission, logical error) refused with that reason.
//   scpi     a SCPI numeric reply (`+1.21000E+01`); 9.9E37 (overflow) and 9.91E37 (NaN) refused.
//   line     `number [unit]` (`12.5 mm`, `-0.002`).
// A profile's own `parse` ERE: group 1 is the value, group 2 (if present and non-empty) the
// unit. Units: a reply unit equal to the expected one is taken as is; otherwise a simple factor
// converts within one family (mg/g/kg/lb/oz, N·m/cN·m/mN·m, µV/mV/V/kV, µA/mA/A, mΩ/Ω/kΩ/MΩ,
// µm/mm/cm/m/in); anything else is refused. A reply without a unit reads in the expected unit.
//
// parse() is total: any bytes in, a Reading or a refusal out; it never throws (fuzzed:
// tests/fuzz/fuzz_reading_parser.cpp). Immutable after create(); usable from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/profile/regex.hpp"
#include "hal/result.hpp"

namespace agent {

struct Reading {
  double value = 0;  // in `unit`
  std::string text;  // the value as decimal text for templates ({reading.value}), e.g. "12.345"
  std::string unit;  // the expected unit (after conversion), or the reply's when none is expected
  bool stable = true;
  std::string raw;  // the reply line as received
};

struct DialectOptions {
  std::string dialect;         // "mt-sics" | "scpi" | "line"; empty = use `parse`
  std::optional<Regex> parse;  // custom: group 1 = value, group 2 = unit (optional)
  std::string unit;            // expected unit; empty = take the reply's
  bool stable_only = true;     // mt-sics: refuse dynamic (S D) weights
};

// The preset names, for messages: "mt-sics, scpi, line".
const char* dialect_names() noexcept;
bool is_dialect(const std::string& name) noexcept;

// The factor that turns a value in `from` into `to` (1 when equal); empty when there is none.
std::optional<double> unit_factor(const std::string& from, const std::string& to);

class ReadingParser {
 public:
  // Errc::config for an unknown dialect or neither dialect nor parse.
  static hal::Result<ReadingParser> create(DialectOptions options);

  // One reply line (without its terminator). Errc::parse with the reason when refused.
  hal::Result<Reading> parse(const std::string& line) const;

 private:
  struct Refusal {
    Regex re;
    std::string reason;
  };
  ReadingParser() = default;

  DialectOptions options_;
  std::optional<Regex> re_;
  std::vector<Refusal> refusals_;
  std::size_t value_group_ = 1;
  std::size_t unit_group_ = 0;  // 0 = none
  std::size_t flag_group_ = 0;  // 0 = none
  std::string stable_flag_;     // the flag text of a stable value
  bool scpi_ = false;
};

}  // namespace agent
