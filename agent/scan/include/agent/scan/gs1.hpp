// SPDX-License-Identifier: Apache-2.0
// GS1 element strings: Application Identifiers (AIs) and their values, as carried by GS1-128,
// GS1 DataMatrix, GS1 QR Code and GS1 DataBar. Pure functions over bytes (fuzzing entry points).
//
// Accepted forms:
//  - unbracketed, as a scanner transmits it: "0109501101530003" GS "10LOT42" GS "21SN1";
//    FNC1 arrives as GS (ASCII 29). A leading GS (FNC1 in first position) is skipped.
//    Fields of the GS1 "predefined length" AIs (00, 01, 02, 11-17, 20, 31nn-36nn, 41n) need no
//    separator; every other field ends at GS or at the end of the data.
//  - bracketed (human-readable text): "(01)09501101530003(10)LOT42(21)SN1". A value ends at
//    the next '(' - so values containing '(' must use the unbracketed form.
// Rules checked: known AI (table in gs1.cpp: 00 01 02 10 11 12 13 15 16 17 20 21 22 240 241
// 242 250 251 30 31nn-36nn 37 400 401 410-414 420 7003 8004 90 91-99); exact length of
// fixed fields, maximum length of variable ones; numeric or GS1 character set 82; mod-10 check
// digit (00, 01, 02, 41n); dates YYMMDD with a real month and day (DD 00 = "end of month",
// allowed as GS1 allows it); an AI that repeats with a different value.
// Errors read "gs1: AI (10) at byte 18: ..." with the byte offset in the whole scan
// (`offset` = where the element string starts in it). A variable field that is too long or has
// a bad character and contains a known AI is reported as a missing GS separator.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "hal/result.hpp"

namespace agent::gs1 {

using Fields = std::map<std::string, std::string>;  // AI -> value, e.g. "21" -> "SN1"

hal::Result<Fields> parse(std::string_view data, std::size_t offset = 0);
hal::Result<Fields> parse_unbracketed(std::string_view data, std::size_t offset = 0);
hal::Result<Fields> parse_bracketed(std::string_view data, std::size_t offset = 0);

// True when `data` starts like bracketed GS1 text: "(" 2-4 digits ")".
bool looks_bracketed(std::string_view data);
// The GS1 mod-10 check digit of `digits` (all but the last) equals the last digit.
bool check_digit_ok(std::string_view digits);
char check_digit(std::string_view digits_without_check);
// GS1's short title of an AI ("SERIAL", "BATCH/LOT"), empty when unknown.
std::string_view title(std::string_view ai);

}  // namespace agent::gs1
