// SPDX-License-Identifier: Apache-2.0
// Doubles to and from text without std::to_chars/std::from_chars, whose Ryu and fast_float
// tables cost ~130 KiB in the static embedded binary (issue 17). The results are those of
// the <charconv> calls they replace (tests/agent/reading/number_text_test.cpp compares them
// on edge values and random doubles). Built on snprintf/strtod, which read LC_NUMERIC: the
// process never calls setlocale(), so it stays "C" and the decimal point is '.'.
#pragma once

#include <string>
#include <string_view>

namespace agent {

// std::to_chars(v, chars_format::fixed, places) into a 64-byte buffer: "" when it would
// not fit (or v is not finite).
std::string format_fixed(double v, int places);

// std::to_chars(v, chars_format::general) into a 64-byte buffer: the shortest digits that
// read back as v, written as %g writes them with its default precision 6 ("100000",
// "1.234567e+06", "1e-05", "0.0001"). "" for a value that is not finite.
std::string format_shortest(double v);

// std::from_chars(text, v) that must consume all of `text`: an optional '-', digits with an
// optional '.', an optional exponent (no '+', spaces or hex: those fail). False also when
// the value is out of range: overflow, or a nonzero number that rounds to 0 (subnormals are
// accepted). One difference: "inf" and "nan", which from_chars reads, fail here (a reading
// refuses a value that is not finite anyway, and its number pattern lets neither through).
bool parse_double(std::string_view text, double& v);

}  // namespace agent
