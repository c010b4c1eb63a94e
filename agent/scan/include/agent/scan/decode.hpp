// SPDX-License-Identifier: Apache-2.0
// Scan decoding: what a barcode read means, before a station rule looks at it. Pure functions
// over bytes (no I/O; fuzzing entry points), used by the workflow and `ion-agent decode`.
//
//  1. AIM symbology identifier: a scanner set to transmit it puts "]" + code + modifier in
//     front of the data ("]C1" GS1-128, "]d2" GS1 DataMatrix, "]Q3" GS1 QR, "]E0" EAN-13).
//     It is stripped from `data`, kept in `symbology`, and named in `symbology_name`.
//  2. GS1: the data is parsed as a GS1 element string (agent/gs1.hpp) when the identifier says
//     GS1 (]C1 ]d2 ]d5 ]Q3 ]Q4 ]e0 ]J1), when it starts with GS (FNC1), when it is bracketed
//     text "(01)...", or when DecodeOptions::assume_gs1 is set. EAN-13/UPC-A (]E0, 13 digits)
//     and EAN-8 (]E4) are checked and reported as GTIN-14 in gs1["01"].
//     A station rule matches on `gs1.<AI>` (gs1["21"] serial, gs1["10"] lot, gs1["01"] GTIN).
//  3. Scan-level checks: length limit; no control characters except GS (ASCII 29, FNC1).
// A scan that fails any check has `error` set ("module: what: where"), with byte offsets
// counted in `raw`; the other fields hold what was decoded up to that point.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace agent {

struct DecodeOptions {
  bool assume_gs1 = false;        // parse data without identifier or brackets as GS1
  std::size_t max_length = 4096;  // bytes of raw scan
};

struct DecodedScan {
  std::string raw;                         // the scan as read
  std::string data;                        // raw without the AIM identifier
  std::string symbology;                   // AIM identifier ("]d2"), empty when none
  std::string symbology_name;              // "GS1 DataMatrix", empty when none
  bool is_gs1 = false;                     // data is a GS1 element string (or an EAN/UPC GTIN)
  std::map<std::string, std::string> gs1;  // AI -> value when is_gs1
  std::string error;                       // empty when the scan is valid

  bool ok() const { return error.empty(); }
};

DecodedScan decode_scan(std::string_view raw, const DecodeOptions& options = {});

// The name of an AIM identifier ("]C1" -> "GS1-128"); "unknown symbology" when not known.
std::string symbology_name(std::string_view aim);

// One JSON object: {"raw", "symbology", "symbology_name", "gs1": {AI: value}, "error"}
// (symbology/gs1/error only when present). Control characters are escaped (GS as \u001d).
std::string to_json(const DecodedScan& scan);

}  // namespace agent
