// SPDX-License-Identifier: Apache-2.0
// The station profile's inputs as a key table: scanners (evdev, serial), GPIO, instruments and
// the simulated station; `type` picks which rows apply. See profile.hpp for the format.
#include <cmath>
#include <map>

#include "agent/common/json.hpp"
#include "key_table.hpp"
#include "reader.hpp"

namespace agent {
using namespace keys;
namespace {

// instrument "tcp": host:port, port 1..65535.
void store_tcp(ProfileReader& r, const cJSON* v, InputSpec& o, const std::string& path) {
  std::string s = v->valuestring;
  std::size_t colon = s.rfind(':');
  std::string port = colon == std::string::npos ? "" : s.substr(colon + 1);
  bool ok = colon != std::string::npos && colon > 0 && !port.empty() && port.size() <= 5 &&
            all_of(port, 0, is_digit) && std::stoi(port) >= 1 && std::stoi(port) <= 65535 &&
            s.find_first_of(" \t/") == std::string::npos;
  if (!ok) {
    r.error(path, "expected host:port, e.g. \"10.0.0.5:5025\"");
    return;
  }
  o.tcp = s;
}

void store_dialect(ProfileReader& r, const cJSON* v, InputSpec& o, const std::string& path) {
  store_word<InputSpec, &InputSpec::dialect>(r, v, o, path, {"mt-sics", "scpi", "line"});
}

void store_parse(ProfileReader& r, const cJSON* v, InputSpec& o, const std::string& path) {
  o.parse_source = v->valuestring;
  auto re = Regex::compile(o.parse_source);
  if (!re.ok()) {
    r.error(path, "bad regex: " + re.error().what);
  } else if (re->groups() < 1) {
    r.error(path, "needs a group for the value (group 1), e.g. \"T=([-+.0-9]+) ?([A-Za-z]*)\"");
  } else {
    o.parse = std::move(re).value();
  }
}

// A command is sent as one line: printable ASCII only, so it cannot smuggle a terminator.
void store_command(ProfileReader& r, const cJSON* v, InputSpec& o, const std::string& path) {
  std::string s = v->valuestring;
  if (s.empty() || s.size() > 128 || !all_of(s, 0, [](char c) {
        return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f && static_cast<unsigned char>(c) < 0x80;
      })) {
    r.error(path, "expected 1 to 128 printable ASCII characters");
    return;
  }
  o.command = s;
}

void store_unit(ProfileReader& r, const cJSON* v, InputSpec& o, const std::string& path) {
  std::string s = v->valuestring;
  if (s.empty() || s.size() > 16 || s.find_first_of(" \t0123456789+-.") == 0 ||
      !all_of(s, 0, [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; })) {
    r.error(path, "expected a unit such as \"g\", \"kg\", \"N\u00b7m\", \"V\" (no spaces, at most 16 bytes)");
    return;
  }
  o.unit = s;
}

template <std::optional<double> InputSpec::*Field>
void store_limit(ProfileReader& r, const cJSON* v, InputSpec& o, const std::string& path) {
  if (!cJSON_IsNumber(v) || !std::isfinite(v->valuedouble)) {
    r.error(path, std::string("expected a number, got ") + json_kind(v));
    return;
  }
  o.*Field = v->valuedouble;
}

void store_folder_path(ProfileReader& r, const cJSON* v, InputSpec& o, const std::string& path) {
  std::string s = v->valuestring;
  if (s.empty() || s[0] != '/' || s.size() > 1024) {
    r.error(path, "expected an absolute directory path, e.g. \"/srv/tester/out\"");
    return;
  }
  o.path = s;
}

// A glob on a file name: fnmatch(3) syntax (*, ?, [...]), no '/', no control characters.
void store_pattern(ProfileReader& r, const cJSON* v, InputSpec& o, const std::string& path) {
  std::string s = v->valuestring;
  if (s.empty() || s.size() > 255 || s.find('/') != std::string::npos ||
      !all_of(s, 0, [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; })) {
    r.error(path, "expected a file name glob such as \"*.csv\" (no '/', at most 255 bytes)");
    return;
  }
  o.pattern = s;
}

// Input keys; `type` picks which rows apply (kInputTypes below).
const Key<InputSpec> kInputKeys[] = {
    {"type", JType::string, true, 0, 0, nullptr, "evdev | serial | gpio | sim | instrument | folder"},
    {"comment", JType::string, false, 0, 0, nullptr, "free text"},
    {"device", JType::string, false, 0, 0, ION_STR(InputSpec, device), "evdev/serial: device path"},
    {"usb", JType::string, false, 0, 0, ION_STR(InputSpec, usb), "evdev: VID:PID instead of a path"},
    {"grab", JType::boolean, false, 0, 0, ION_BOOL(InputSpec, grab),
     "evdev: grab the keyboard (scans never reach a console)"},
    {"keymap", JType::string, false, 0, 0,
     [](ProfileReader& r, const cJSON* jv, InputSpec& o, const std::string& at) {
       store_word<InputSpec, &InputSpec::keymap>(r, jv, o, at, {"us", "de", "fr", "uk"});
     },
     "evdev: keyboard layout the scanner types in"},
    {"terminator", JType::string, false, 0, 0, ION_STR(InputSpec, terminator), "scanner: end of a scan"},
    {"gap_ms", JType::integer, false, 0, 10000, ION_INT(InputSpec, gap_ms),
     "scanner: longest pause inside a scan"},
    {"max_length", JType::integer, false, 1, 4096, ION_INT(InputSpec, max_length),
     "scanner: longest barcode accepted"},
    {"baud", JType::integer, false, 1200, 921600, ION_INT(InputSpec, baud), "serial: line speed"},
    {"parity", JType::string, false, 0, 0,
     [](ProfileReader& r, const cJSON* jv, InputSpec& o, const std::string& at) {
       store_word<InputSpec, &InputSpec::parity>(r, jv, o, at, {"none", "even", "odd"});
     },
     "serial: none | even | odd"},
    {"data_bits", JType::integer, false, 5, 8, ION_INT(InputSpec, data_bits), "serial: 5..8"},
    {"stop_bits", JType::integer, false, 1, 2, ION_INT(InputSpec, stop_bits), "serial: 1 | 2"},
    {"chip", JType::string, false, 0, 0, ION_STR(InputSpec, chip), "gpio: chip name, path, label or number"},
    {"line", JType::any, false, 0, 0, store_line<InputSpec>, "gpio: line offset or line name"},
    {"active_low", JType::boolean, false, 0, 0, ION_BOOL(InputSpec, active_low), "gpio: pressed = low"},
    {"bias", JType::string, false, 0, 0,
     [](ProfileReader& r, const cJSON* jv, InputSpec& o, const std::string& at) {
       store_word<InputSpec, &InputSpec::bias>(r, jv, o, at,
                                               {"as-is", "disabled", "none", "pull-up", "pull-down"});
     },
     "gpio: as-is | disabled | pull-up | pull-down"},
    {"debounce_ms", JType::integer, false, 0, 1000, ION_INT(InputSpec, debounce_ms), "gpio: debounce period"},
    {"long_press_ms", JType::integer, false, 0, 60000, ION_INT(InputSpec, long_press_ms),
     "gpio/sim: long press after (0 = off)"},
    {"port", JType::string, false, 0, 0, ION_STR(InputSpec, device), "instrument: serial port path"},
    {"tcp", JType::string, false, 0, 0, store_tcp, "instrument: host:port (SCPI: 5025)"},
    {"mode", JType::string, false, 0, 0,
     [](ProfileReader& r, const cJSON* jv, InputSpec& o, const std::string& at) {
       store_word<InputSpec, &InputSpec::mode>(r, jv, o, at, {"stream", "query"});
     },
     "instrument: stream (it sends) | query (we send command)"},
    {"dialect", JType::string, false, 0, 0, store_dialect, "instrument: mt-sics | scpi | line"},
    {"parse", JType::string, false, 0, 0, store_parse,
     "instrument: reply ERE, group 1 = value, group 2 = unit"},
    {"command", JType::string, false, 0, 0, store_command,
     "instrument: query command (\"SI\", \"MEAS:VOLT?\")"},
    {"timeout_ms", JType::integer, false, 10, 60000, ION_INT(InputSpec, timeout_ms),
     "instrument: longest wait for a reply"},
    {"interval_ms", JType::integer, false, 100, kMaxMs, ION_INT(InputSpec, interval_ms),
     "instrument: query this often while a unit is current (0 = only on {\"read\"})"},
    {"unit", JType::string, false, 0, 0, store_unit, "instrument: expected unit (g, kg, N\u00b7m, V, ...)"},
    {"min", JType::any, false, 0, 0, store_limit<&InputSpec::min>, "instrument: lowest good value"},
    {"max", JType::any, false, 0, 0, store_limit<&InputSpec::max>, "instrument: highest good value"},
    {"stable_only", JType::boolean, false, 0, 0, ION_BOOL(InputSpec, stable_only),
     "instrument: refuse unsettled (dynamic) weights"},
    {"path", JType::string, false, 0, 0, store_folder_path, "folder: the directory to watch (absolute)"},
    {"pattern", JType::string, false, 0, 0, store_pattern, "folder: file name glob, e.g. \"*.csv\""},
    {"max_mb", JType::integer, false, 1, 1024, ION_INT(InputSpec, max_file_mb),
     "folder: largest file taken (MiB); larger ones are refused red"},
};

}  // namespace

void ProfileReader::read_input(const cJSON* v, InputSpec& out, const std::string& path) {
  if (!valid_name(out.name)) {
    error(path, "bad input name (letters, digits, '_' or '-', starting with a letter)");
  }
  read_object(*this, v, path, kInputKeys, out);
  const cJSON* type = cJSON_GetObjectItemCaseSensitive(v, "type");
  if (!cJSON_IsString(type)) {
    return;
  }
  static const std::map<std::string, InputSpec::Type> kTypes = {{"evdev", InputSpec::Type::evdev},
                                                                {"serial", InputSpec::Type::serial},
                                                                {"gpio", InputSpec::Type::gpio},
                                                                {"sim", InputSpec::Type::sim},
                                                                {"instrument", InputSpec::Type::instrument},
                                                                {"folder", InputSpec::Type::folder}};
  auto it = kTypes.find(type->valuestring);
  if (it == kTypes.end()) {
    error(child(path, "type"), "unknown input type (expected evdev, serial, gpio, sim, instrument, folder)");
    return;
  }
  out.type = it->second;
  // Which keys each type takes; the rest of the table is refused for it.
  static const std::map<InputSpec::Type, std::set<std::string>> kAllowed = {
      {InputSpec::Type::evdev, {"device", "usb", "grab", "keymap", "terminator", "gap_ms", "max_length"}},
      {InputSpec::Type::serial,
       {"device", "baud", "parity", "data_bits", "stop_bits", "terminator", "gap_ms", "max_length"}},
      {InputSpec::Type::gpio, {"chip", "line", "active_low", "bias", "debounce_ms", "long_press_ms"}},
      {InputSpec::Type::sim, {"max_length", "long_press_ms"}},
      {InputSpec::Type::instrument,
       {"port", "tcp", "baud", "parity", "data_bits", "stop_bits", "terminator", "max_length", "mode",
        "dialect", "parse", "command", "timeout_ms", "interval_ms", "unit", "min", "max", "stable_only"}},
      {InputSpec::Type::folder, {"path", "pattern", "max_mb"}}};
  const auto& allowed = kAllowed.at(out.type);
  for (const cJSON* m = v->child; m != nullptr; m = m->next) {
    std::string k = m->string;
    if (k != "type" && k != "comment" && allowed.count(k) == 0) {
      bool known = false;
      for (const auto& row : kInputKeys) {
        known = known || k == row.name;
      }
      if (known) {
        error(child(path, k), std::string("not a key for type '") + type->valuestring + "'");
      }
    }
  }
  auto need = [&](const char* key) {
    if (cJSON_GetObjectItemCaseSensitive(v, key) == nullptr) {
      error(path, std::string("missing required key '") + key + "' for type '" + type->valuestring + "'");
    }
  };
  if (out.type == InputSpec::Type::serial || (out.type == InputSpec::Type::evdev && out.usb.empty())) {
    need("device");
  }
  if (!out.terminator.empty()) {
    static const std::set<std::string> kEvdev = {"enter", "tab", "none"};
    static const std::set<std::string> kSerial = {"cr", "lf", "crlf", "none"};
    static const std::set<std::string> kInstrument = {"cr", "lf", "crlf"};
    bool serial = out.type == InputSpec::Type::serial;
    bool instrument = out.is_instrument();
    const auto& ok = serial ? kSerial : (instrument ? kInstrument : kEvdev);
    if (ok.count(out.terminator) == 0) {
      error(child(path, "terminator"),
            "unknown value '" + out.terminator + "' (expected " +
                (serial ? "cr, lf, crlf, none" : (instrument ? "cr, lf, crlf" : "enter, tab, none")) + ")");
    }
  }
  if (out.is_instrument()) {
    check_instrument(v, out, path);
  }
  if (out.is_folder()) {
    need("path");
  }
  if (out.type == InputSpec::Type::gpio) {
    need("line");
    if (out.line_name.empty()) {
      need("chip");  // a line offset needs its chip; a line name may be searched on all chips
    }
  }
}

void ProfileReader::check_instrument(const cJSON* v, const InputSpec& in, const std::string& path) {
  auto has_key = [&](const char* k) { return cJSON_GetObjectItemCaseSensitive(v, k) != nullptr; };
  if (has_key("port") == has_key("tcp")) {
    error(path, "an instrument needs exactly one of 'port' (serial) or 'tcp' (host:port)");
  }
  if (has_key("tcp")) {
    for (const char* k : {"baud", "parity", "data_bits", "stop_bits"}) {
      if (has_key(k)) {
        error(child(path, k), "a serial option; this instrument is on 'tcp'");
      }
    }
  }
  if (has_key("dialect") == has_key("parse")) {
    error(path, "an instrument needs exactly one of 'dialect' (mt-sics, scpi, line) or 'parse' (an ERE)");
  }
  if (in.mode == "query" && !has_key("command")) {
    error(path, "mode 'query' needs 'command' (what to send, e.g. \"SI\")");
  }
  if (in.mode == "stream") {
    for (const char* k : {"command", "timeout_ms", "interval_ms"}) {
      if (has_key(k)) {
        error(child(path, k), "applies to mode 'query' only");
      }
    }
  }
  if (in.interval_ms > 0 && in.interval_ms <= in.timeout_ms) {
    error(child(path, "interval_ms"),
          "must be longer than timeout_ms (" + std::to_string(in.timeout_ms) + ")");
  }
  if (has_key("stable_only") && in.dialect != "mt-sics") {
    error(child(path, "stable_only"), "applies to dialect 'mt-sics' only");
  }
  if (in.min && in.max && *in.min > *in.max) {
    error(child(path, "min"), "greater than 'max'");
  }
}

}  // namespace agent
