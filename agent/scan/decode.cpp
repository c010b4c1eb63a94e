// SPDX-License-Identifier: Apache-2.0
#include "agent/scan/decode.hpp"

#include <cstdio>

#include "agent/common/json.hpp"
#include "agent/scan/gs1.hpp"

namespace agent {
namespace {

constexpr char kGs = '\x1d';

struct Aim {
  char code;
  char modifier;  // '*': any modifier
  bool gs1;
  std::string_view name;
};

// ISO/IEC 15424 symbology identifiers; the first match wins, so specific modifiers come first.
constexpr Aim kAims[] = {
    {'C', '1', true, "GS1-128"},
    {'C', '4', false, "ISBT 128"},
    {'C', '*', false, "Code 128"},
    {'d', '2', true, "GS1 DataMatrix"},
    {'d', '5', true, "GS1 DataMatrix (ECI)"},
    {'d', '*', false, "Data Matrix"},
    {'Q', '3', true, "GS1 QR Code"},
    {'Q', '4', true, "GS1 QR Code (ECI)"},
    {'Q', '*', false, "QR Code"},
    {'e', '*', true, "GS1 DataBar"},
    {'J', '1', true, "GS1 DotCode"},
    {'J', '*', false, "DotCode"},
    {'E', '4', false, "EAN-8"},
    {'E', '0', false, "EAN-13 / UPC-A / UPC-E"},
    {'E', '*', false, "EAN/UPC with add-on"},
    {'A', '*', false, "Code 39"},
    {'F', '*', false, "Codabar"},
    {'G', '*', false, "Code 93"},
    {'H', '*', false, "Code 11"},
    {'I', '*', false, "Interleaved 2 of 5"},
    {'K', '*', false, "Code 16K"},
    {'L', '*', false, "PDF417"},
    {'M', '*', false, "MSI"},
    {'O', '*', false, "Codablock"},
    {'P', '*', false, "Plessey"},
    {'R', '*', false, "Straight 2 of 5 (2 bar)"},
    {'S', '*', false, "Straight 2 of 5 (3 bar)"},
    {'U', '*', false, "MaxiCode"},
    {'X', '*', false, "other symbology"},
    {'z', '*', false, "Aztec Code"},
};

const Aim* find_aim(std::string_view id) {
  if (id.size() != 3 || id[0] != ']') {
    return nullptr;
  }
  for (const auto& a : kAims) {
    if (a.code == id[1] && (a.modifier == '*' || a.modifier == id[2])) {
      return &a;
    }
  }
  return nullptr;
}

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

std::string control_error(std::string_view raw, std::size_t max_length) {
  if (raw.empty()) {
    return "scan: empty";
  }
  if (raw.size() > max_length) {
    return "scan: longer than " + std::to_string(max_length) + " bytes (" + std::to_string(raw.size()) + ")";
  }
  for (std::size_t i = 0; i < raw.size(); ++i) {
    auto u = static_cast<unsigned char>(raw[i]);
    if ((u < 0x20 && u != 0x1D) || u == 0x7F) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "scan: control character 0x%02X at byte %zu (only GS, 0x1D, is allowed)",
                    u, i);
      return buf;
    }
  }
  return {};
}

// EAN-13/UPC-A (13 digits) or EAN-8 (8 digits) as a GTIN-14 in gs1["01"].
void decode_ean(DecodedScan& s, std::size_t offset) {
  const std::string& d = s.data;
  bool digits = !d.empty() && d.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || (d.size() != 13 && d.size() != 8)) {
    return;  // add-on forms and UPC-E: reported as read, without a GTIN
  }
  if (!gs1::check_digit_ok(d)) {
    s.error = "ean: check digit at byte " + std::to_string(offset + d.size() - 1) + " is " + d.back() +
              ", expected " + gs1::check_digit(std::string_view(d).substr(0, d.size() - 1));
    return;
  }
  s.is_gs1 = true;
  s.gs1["01"] = std::string(14 - d.size(), '0') + d;
}

}  // namespace

std::string symbology_name(std::string_view aim) {
  const Aim* a = find_aim(aim);
  return a != nullptr ? std::string(a->name) : "unknown symbology";
}

DecodedScan decode_scan(std::string_view raw, const DecodeOptions& options) {
  DecodedScan s;
  s.raw = std::string(raw);
  s.error = control_error(raw, options.max_length);
  if (!s.error.empty()) {
    return s;
  }
  std::size_t offset = 0;
  bool gs1_by_id = false;
  if (raw.size() >= 3 && raw[0] == ']' && is_alnum(raw[1]) && is_alnum(raw[2])) {
    s.symbology = std::string(raw.substr(0, 3));
    s.symbology_name = symbology_name(s.symbology);
    const Aim* a = find_aim(s.symbology);
    gs1_by_id = a != nullptr && a->gs1;
    offset = 3;
  }
  s.data = std::string(raw.substr(offset));
  if (s.symbology == "]E0" || s.symbology == "]E4") {
    decode_ean(s, offset);
    return s;
  }
  std::string_view data = s.data;
  bool bracketed = gs1::looks_bracketed(data);
  if (!(gs1_by_id || bracketed || options.assume_gs1 || (!data.empty() && data[0] == kGs))) {
    return s;
  }
  s.is_gs1 = true;
  auto fields = bracketed ? gs1::parse_bracketed(data, offset) : gs1::parse_unbracketed(data, offset);
  if (!fields.ok()) {
    s.error = fields.error().what;
    return s;
  }
  s.gs1 = std::move(fields).value();
  return s;
}

std::string to_json(const DecodedScan& scan) {
  Json root(cJSON_CreateObject());
  if (!root) {
    return "{}";
  }
  cJSON_AddStringToObject(root.get(), "raw", scan.raw.c_str());
  if (!scan.symbology.empty()) {
    cJSON_AddStringToObject(root.get(), "symbology", scan.symbology.c_str());
    cJSON_AddStringToObject(root.get(), "symbology_name", scan.symbology_name.c_str());
  }
  if (scan.is_gs1 && !scan.gs1.empty()) {
    cJSON* gs1 = cJSON_AddObjectToObject(root.get(), "gs1");
    for (const auto& [ai, value] : scan.gs1) {
      cJSON_AddStringToObject(gs1, ai.c_str(), value.c_str());
    }
  }
  if (!scan.error.empty()) {
    cJSON_AddStringToObject(root.get(), "error", scan.error.c_str());
  }
  JsonText text(cJSON_PrintUnformatted(root.get()));
  return text ? std::string(text.get()) : "{}";
}

}  // namespace agent
