// SPDX-License-Identifier: Apache-2.0
// The profile's key tables and the checks that span tables. See profile.hpp for the format.
#include "reader.hpp"

#include <cmath>
#include <map>

#include "agent/common/json.hpp"
#include "agent/intent/kinds.hpp"
#include "agent/profile/value_template.hpp"
#include "hal/output_pattern.hpp"

namespace agent {
namespace {

enum class JType { string, integer, boolean, object, array, any };

const char* type_name(JType t) {
  switch (t) {
    case JType::string:
      return "a string";
    case JType::integer:
      return "an integer";
    case JType::boolean:
      return "true or false";
    case JType::object:
      return "an object";
    case JType::array:
      return "an array";
    case JType::any:
      return "a value";
  }
  return "?";
}

const char* json_kind(const cJSON* v) {
  if (cJSON_IsString(v))
    return "a string";
  if (cJSON_IsNumber(v))
    return "a number";
  if (cJSON_IsBool(v))
    return "a boolean";
  if (cJSON_IsObject(v))
    return "an object";
  if (cJSON_IsArray(v))
    return "an array";
  if (cJSON_IsNull(v))
    return "null";
  return "something else";
}

bool has_type(const cJSON* v, JType t) {
  switch (t) {
    case JType::string:
      return cJSON_IsString(v) != 0;
    case JType::integer:
      return cJSON_IsNumber(v) != 0 && std::floor(v->valuedouble) == v->valuedouble &&
             std::fabs(v->valuedouble) < 2147483648.0;
    case JType::boolean:
      return cJSON_IsBool(v) != 0;
    case JType::object:
      return cJSON_IsObject(v) != 0;
    case JType::array:
      return cJSON_IsArray(v) != 0;
    case JType::any:
      return true;
  }
  return false;
}

// One row of a key table (Fluent Bit's flb_config_map): the key, its JSON type, whether it
// must be present, the accepted integer range, where it goes, and what it means.
template <class T>
struct Key {
  const char* name;
  JType type;
  bool required;
  int min;
  int max;
  void (*store)(ProfileReader& r, const cJSON* v, T& out, const std::string& path);
  const char* doc;
};

std::string child(const std::string& path, const std::string& key) {
  return path + "." + key;
}
std::string index(const std::string& path, int i) {
  return path + "[" + std::to_string(i) + "]";
}

// Fixed-shape checks are plain character tests (no regex engine for them).
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_alpha(char c) {
  return is_lower(c) || (c >= 'A' && c <= 'Z');
}
bool all_of(const std::string& s, std::size_t from, bool (*ok)(char)) {
  for (std::size_t i = from; i < s.size(); ++i) {
    if (!ok(s[i])) {
      return false;
    }
  }
  return true;
}
// A GS1 application identifier: 2 to 4 digits.
bool is_ai(const std::string& s) {
  return s.size() >= 2 && s.size() <= 4 && all_of(s, 0, is_digit);
}

// Checks `obj` against a key table and stores every key that has the right type.
template <class T, std::size_t N>
void read_object(ProfileReader& r, const cJSON* obj, const std::string& path, const Key<T> (&keys)[N],
                 T& out) {
  if (!cJSON_IsObject(obj)) {
    r.error(path, std::string("expected an object, got ") + json_kind(obj));
    return;
  }
  std::set<std::string> seen;
  for (const cJSON* m = obj->child; m != nullptr; m = m->next) {
    std::string name = m->string != nullptr ? m->string : "";
    std::string at = child(path, name);
    const Key<T>* key = nullptr;
    for (const auto& k : keys) {
      if (name == k.name) {
        key = &k;
      }
    }
    if (key == nullptr) {
      std::string expected;
      for (const auto& k : keys) {
        expected += expected.empty() ? "" : ", ";
        expected += k.name;
      }
      r.error(at, "unknown key (expected one of: " + expected + ")");
      continue;
    }
    if (!seen.insert(name).second) {
      r.error(at, "duplicate key");
      continue;
    }
    if (!has_type(m, key->type)) {
      r.error(at, std::string("expected ") + type_name(key->type) + ", got " + json_kind(m));
      continue;
    }
    if (key->type == JType::integer) {
      int v = m->valueint;
      if (v < key->min || v > key->max) {
        r.error(at, "out of range (" + std::to_string(key->min) + " to " + std::to_string(key->max) +
                        "): " + std::to_string(v));
        continue;
      }
    }
    if (key->store != nullptr) {
      key->store(r, m, out, at);
    }
  }
  for (const auto& k : keys) {
    if (k.required && seen.count(k.name) == 0 && cJSON_GetObjectItemCaseSensitive(obj, k.name) == nullptr) {
      r.error(path, std::string("missing required key '") + k.name + "'");
    }
  }
}

#define ION_STR(T, field) \
  [](ProfileReader&, const cJSON* jv, T& o, const std::string&) { o.field = jv->valuestring; }
#define ION_INT(T, field) \
  [](ProfileReader&, const cJSON* jv, T& o, const std::string&) { o.field = jv->valueint; }
#define ION_BOOL(T, field) \
  [](ProfileReader&, const cJSON* jv, T& o, const std::string&) { o.field = cJSON_IsTrue(jv) != 0; }
constexpr int kMaxMs = 3600 * 1000;

const Key<IonSettings> kIonKeys[] = {
    {"ca_file", JType::string, false, 0, 0, ION_STR(IonSettings, ca_file), "CA bundle (PEM) for ION's TLS"},
    {"ca_path", JType::string, false, 0, 0, ION_STR(IonSettings, ca_path), "hashed CA directory"},
    {"pinned_public_key", JType::string, false, 0, 0, ION_STR(IonSettings, pinned_public_key),
     "sha256//... pin or key file"},
    {"proxy", JType::string, false, 0, 0, ION_STR(IonSettings, proxy), "proxy URL; \"direct\" = none"},
    {"connect_timeout_ms", JType::integer, false, 100, kMaxMs, ION_INT(IonSettings, connect_timeout_ms),
     "TCP+TLS connect timeout"},
    {"timeout_ms", JType::integer, false, 100, kMaxMs, ION_INT(IonSettings, timeout_ms),
     "whole request timeout"},
    {"retry_base_ms", JType::integer, false, 10, kMaxMs, ION_INT(IonSettings, retry_base_ms),
     "first delivery retry waits up to this"},
    {"retry_cap_ms", JType::integer, false, 100, kMaxMs, ION_INT(IonSettings, retry_cap_ms),
     "longest wait between delivery retries (and token-endpoint retries)"},
    {"rejected_retry_ms", JType::integer, false, 1000, kMaxMs, ION_INT(IonSettings, rejected_retry_ms),
     "retry interval after the key was rejected (revoked)"},
};

template <class T>
void store_line(ProfileReader& r, const cJSON* v, T& o, const std::string& path) {
  if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
    o.line_name = v->valuestring;
  } else if (has_type(v, JType::integer) && v->valueint >= 0 && v->valueint <= 1023) {
    o.line = v->valueint;
  } else {
    r.error(path, std::string("expected a line offset (0 to 1023) or a line name, got ") + json_kind(v));
  }
}

// Checks a word against the words a HAL option accepts.
template <class T, std::string T::*Field>
void store_word(ProfileReader& r, const cJSON* v, T& o, const std::string& path,
                std::initializer_list<const char*> words) {
  std::string got = v->valuestring;
  std::string list;
  for (const char* w : words) {
    if (got == w) {
      o.*Field = got;
      return;
    }
    list += list.empty() ? "" : ", ";
    list += w;
  }
  r.error(path, "unknown value '" + got + "' (expected " + list + ")");
}

// Input keys; `type` picks which rows apply (kInputTypes below).
const Key<InputSpec> kInputKeys[] = {
    {"type", JType::string, true, 0, 0, nullptr, "evdev | serial | gpio | sim"},
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
};

const Key<OutputSpec> kOutputKeys[] = {
    {"type", JType::string, false, 0, 0, nullptr, "gpio (default) | sim"},
    {"comment", JType::string, false, 0, 0, nullptr, "free text"},
    {"chip", JType::string, false, 0, 0, ION_STR(OutputSpec, chip), "gpio: chip name or path"},
    {"line", JType::any, false, 0, 0, store_line<OutputSpec>, "gpio: line offset or line name"},
    {"active_low", JType::boolean, false, 0, 0, ION_BOOL(OutputSpec, active_low), "gpio: on = low"},
    {"drive", JType::string, false, 0, 0,
     [](ProfileReader& r, const cJSON* jv, OutputSpec& o, const std::string& at) {
       store_word<OutputSpec, &OutputSpec::drive>(r, jv, o, at, {"push-pull", "open-drain", "open-source"});
     },
     "gpio: push-pull | open-drain | open-source"},
};

const Key<Pattern> kPatternKeys[] = {
    {"output", JType::string, true, 0, 0, ION_STR(Pattern, output), "output name"},
    {"pattern", JType::string, true, 0, 0, ION_STR(Pattern, pattern),
     "\"pulse 300ms\", \"blink 200ms x3\", ..."},
};

void store_gs1(ProfileReader& r, const cJSON* v, Rule& o, const std::string& path) {
  int i = 0;
  for (const cJSON* e = v->child; e != nullptr; e = e->next, ++i) {
    if (!cJSON_IsString(e) || !is_ai(e->valuestring)) {
      r.error(index(path, i), "expected a GS1 application identifier such as \"21\"");
      continue;
    }
    o.gs1.emplace_back(e->valuestring);
  }
}

void store_match(ProfileReader& r, const cJSON* v, Rule& o, const std::string& path) {
  o.match_source = v->valuestring;
  auto re = Regex::compile(o.match_source);
  if (re.ok()) {
    o.match = std::move(re).value();
  } else {
    r.error(path, "bad regex: " + re.error().what);
  }
}

void store_actions(ProfileReader& r, const cJSON* v, Rule& o, const std::string& path) {
  int i = 0;
  for (const cJSON* e = v->child; e != nullptr; e = e->next, ++i) {
    Action a;
    r.read_action(e, a, index(path, i));
    o.actions.push_back(std::move(a));
  }
  if (i == 0) {
    r.error(path, "expected at least one action");
  }
}

const Key<Rule> kRuleKeys[] = {
    {"on", JType::string, true, 0, 0, ION_STR(Rule, on), "input name"},
    {"event", JType::string, false, 0, 0, ION_STR(Rule, event), "scan | press | release | long_press"},
    {"match", JType::string, false, 0, 0, store_match,
     "POSIX extended regex (ERE) the whole scan must match"},
    {"gs1", JType::array, false, 0, 0, store_gs1, "GS1 AIs the scan must carry"},
    {"do", JType::array, true, 0, 0, store_actions, "actions, in order"},
    {"comment", JType::string, false, 0, 0, nullptr, "free text"},
};

void store_inputs(ProfileReader& r, const cJSON* v, Profile& p, const std::string& path) {
  for (const cJSON* e = v->child; e != nullptr; e = e->next) {
    InputSpec in;
    in.name = e->string;
    r.read_input(e, in, child(path, in.name));
    p.inputs.push_back(std::move(in));
  }
  if (v->child == nullptr) {
    r.error(path, "expected at least one input");
  }
}

void store_outputs(ProfileReader& r, const cJSON* v, Profile& p, const std::string& path) {
  for (const cJSON* e = v->child; e != nullptr; e = e->next) {
    OutputSpec out;
    out.name = e->string;
    r.read_output(e, out, child(path, out.name));
    p.outputs.push_back(std::move(out));
  }
}

void store_rules(ProfileReader& r, const cJSON* v, Profile& p, const std::string& path) {
  int i = 0;
  for (const cJSON* e = v->child; e != nullptr; e = e->next, ++i) {
    Rule rule;
    r.read_rule(e, rule, index(path, i));
    p.rules.push_back(std::move(rule));
  }
  if (i == 0) {
    r.error(path, "expected at least one rule");
  }
}

void store_feedback(ProfileReader& r, const cJSON* v, Profile& p, const std::string& path) {
  for (const cJSON* e = v->child; e != nullptr; e = e->next) {
    std::string at = child(path, e->string);
    int s = 0;
    while (s < kSignalCount && std::string(to_string(static_cast<Signal>(s))) != e->string) {
      ++s;
    }
    if (s == kSignalCount) {
      r.error(
          at,
          "unknown signal (expected accepted, bad_scan, no_unit, queue_full, storage_error, not_matched)");
      continue;
    }
    if (!cJSON_IsObject(e)) {
      r.error(at, std::string("expected an object of output: pattern, got ") + json_kind(e));
      continue;
    }
    auto& list = p.feedback[static_cast<Signal>(s)];
    for (const cJSON* o = e->child; o != nullptr; o = o->next) {
      if (!cJSON_IsString(o)) {
        r.error(child(at, o->string), std::string("expected a pattern string, got ") + json_kind(o));
        continue;
      }
      Pattern pat{o->string, o->valuestring};
      r.check_pattern(pat, child(at, o->string), child(at, o->string));
      list.push_back(pat);
    }
  }
}

void store_level(ProfileReader& r, const cJSON* v, hal::log::Level& o, const std::string& path) {
  if (!hal::log::parse_level(v->valuestring, o)) {
    r.error(path, "unknown level (expected error, warning, notice, info, debug)");
  }
}

const Key<hal::log::Level> kLoggingKeys[] = {
    {"level", JType::string, false, 0, 0, store_level, "error | warning | notice | info | debug"},
};
const Key<OutboxSettings> kOutboxKeys[] = {
    {"max_mb", JType::integer, false, 1, 65536, ION_INT(OutboxSettings, max_mb),
     "database size bound; beyond it new events are refused"},
    {"retention_hours", JType::integer, false, 1, 24 * 365, ION_INT(OutboxSettings, retention_hours),
     "keep delivered intents this long"},
};
const Key<MetricsSettings> kMetricsKeys[] = {
    {"textfile", JType::string, false, 0, 0, ION_STR(MetricsSettings, textfile),
     "node_exporter textfile path"},
    {"interval_s", JType::integer, false, 1, 3600, ION_INT(MetricsSettings, interval_s), "rewrite interval"},
};

const Key<Profile> kTopKeys[] = {
    {"station", JType::string, false, 0, 0, ION_STR(Profile, station), "station name"},
    {"comment", JType::string, false, 0, 0, nullptr, "free text"},
    {"ion", JType::object, false, 0, 0,
     [](ProfileReader& r, const cJSON* v, Profile& p, const std::string& at) {
       read_object(r, v, at, kIonKeys, p.ion);
     },
     "network settings for ION"},
    {"inputs", JType::object, true, 0, 0, store_inputs, "named inputs"},
    {"outputs", JType::object, false, 0, 0, store_outputs, "named outputs"},
    {"rules", JType::array, true, 0, 0, store_rules, "rules, first match wins"},
    {"feedback", JType::object, false, 0, 0, store_feedback, "patterns per signal"},
    {"outbox", JType::object, false, 0, 0,
     [](ProfileReader& r, const cJSON* v, Profile& p, const std::string& at) {
       read_object(r, v, at, kOutboxKeys, p.outbox);
     },
     "outbox limits"},
    {"logging", JType::object, false, 0, 0,
     [](ProfileReader& r, const cJSON* v, Profile& p, const std::string& at) {
       read_object(r, v, at, kLoggingKeys, p.log_level);
     },
     "log level"},
    {"metrics", JType::object, false, 0, 0,
     [](ProfileReader& r, const cJSON* v, Profile& p, const std::string& at) {
       read_object(r, v, at, kMetricsKeys, p.metrics);
     },
     "Prometheus textfile"},
};

// Input and output names: a letter, then up to 31 letters, digits, '_' or '-'.
bool valid_name(const std::string& s) {
  return !s.empty() && s.size() <= 32 && is_alpha(s[0]) &&
         all_of(s, 1, [](char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == '-'; });
}

// Context keys: lower-case words of [a-z0-9_] joined by '.', starting with a letter.
bool valid_context_key(const std::string& s) {
  if (s.empty() || !is_lower(s[0])) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool word = is_lower(c) || is_digit(c) || c == '_';
    if (!word && !(c == '.' && i + 1 < s.size() && s[i + 1] != '.')) {
      return false;
    }
  }
  return true;
}

}  // namespace

void ProfileReader::error(const std::string& path, const std::string& reason) {
  errors_.push_back(file_ + ": " + path + ": " + reason);
}

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
                                                                {"sim", InputSpec::Type::sim}};
  auto it = kTypes.find(type->valuestring);
  if (it == kTypes.end()) {
    error(child(path, "type"), "unknown input type (expected evdev, serial, gpio, sim)");
    return;
  }
  out.type = it->second;
  // Which keys each type takes; the rest of the table is refused for it.
  static const std::map<InputSpec::Type, std::set<std::string>> kAllowed = {
      {InputSpec::Type::evdev, {"device", "usb", "grab", "keymap", "terminator", "gap_ms", "max_length"}},
      {InputSpec::Type::serial,
       {"device", "baud", "parity", "data_bits", "stop_bits", "terminator", "gap_ms", "max_length"}},
      {InputSpec::Type::gpio, {"chip", "line", "active_low", "bias", "debounce_ms", "long_press_ms"}},
      {InputSpec::Type::sim, {"max_length", "long_press_ms"}}};
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
    const auto& ok = out.type == InputSpec::Type::serial ? kSerial : kEvdev;
    if (ok.count(out.terminator) == 0) {
      error(child(path, "terminator"),
            "unknown value '" + out.terminator + "' (expected " +
                (out.type == InputSpec::Type::serial ? "cr, lf, crlf, none" : "enter, tab, none") + ")");
    }
  }
  if (out.type == InputSpec::Type::gpio) {
    need("line");
    if (out.line_name.empty()) {
      need("chip");  // a line offset needs its chip; a line name may be searched on all chips
    }
  }
}

void ProfileReader::read_output(const cJSON* v, OutputSpec& out, const std::string& path) {
  if (!valid_name(out.name)) {
    error(path, "bad output name (letters, digits, '_' or '-', starting with a letter)");
  }
  read_object(*this, v, path, kOutputKeys, out);
  const cJSON* type = cJSON_GetObjectItemCaseSensitive(v, "type");
  std::string t = cJSON_IsString(type) ? type->valuestring : "gpio";
  if (t == "sim") {
    out.type = OutputSpec::Type::sim;
  } else if (t == "gpio") {
    out.type = OutputSpec::Type::gpio;
    for (const char* key : {"chip", "line"}) {
      if (cJSON_IsObject(v) && cJSON_GetObjectItemCaseSensitive(v, key) == nullptr) {
        error(path, std::string("missing required key '") + key + "' for a gpio output");
      }
    }
  } else {
    error(child(path, "type"), "unknown output type (expected gpio, sim)");
  }
}

void ProfileReader::read_pattern(const cJSON* v, Pattern& out, const std::string& path) {
  read_object(*this, v, path, kPatternKeys, out);
  if (!out.output.empty() && !out.pattern.empty()) {
    check_pattern(out, child(path, "output"), child(path, "pattern"));
  }
}

void ProfileReader::check_pattern(const Pattern& p, const std::string& output_path,
                                  const std::string& pattern_path) {
  if (profile_ != nullptr && profile_->output(p.output) == nullptr) {
    error(output_path, "unknown output '" + p.output + "'");
  }
  auto parsed = hal::parse_pattern(p.pattern);
  if (!parsed.ok()) {
    error(pattern_path, "bad pattern: " + parsed.error().what);
  }
}

void ProfileReader::read_rule(const cJSON* v, Rule& out, const std::string& path) {
  read_object(*this, v, path, kRuleKeys, out);
}

void ProfileReader::read_action(const cJSON* v, Action& out, const std::string& path) {
  if (!cJSON_IsObject(v)) {
    error(path, std::string("expected an object, got ") + json_kind(v));
    return;
  }
  int kinds = 0;
  for (const char* k : {"set", "clear", "intent", "output"}) {
    kinds += cJSON_GetObjectItemCaseSensitive(v, k) != nullptr ? 1 : 0;
  }
  if (kinds != 1) {
    error(path, "an action needs exactly one of 'set', 'clear', 'intent', 'output'");
    return;
  }
  if (cJSON_GetObjectItemCaseSensitive(v, "set") != nullptr) {
    struct Set {
      std::string key, to;
    } s;
    static const Key<Set> kSetKeys[] = {
        {"set", JType::string, true, 0, 0, ION_STR(Set, key), "context key"},
        {"to", JType::string, true, 0, 0, ION_STR(Set, to), "value template"},
    };
    read_object(*this, v, path, kSetKeys, s);
    out.kind = Action::Kind::set;
    out.key = s.key;
    out.value = s.to;
    if (!s.key.empty() && !valid_context_key(s.key)) {
      error(child(path, "set"), "bad context key (lower case words joined by '.')");
    }
  } else if (cJSON_GetObjectItemCaseSensitive(v, "clear") != nullptr) {
    static const Key<Action> kClearKeys[] = {
        {"clear", JType::string, true, 0, 0, ION_STR(Action, key), "context key or *"}};
    read_object(*this, v, path, kClearKeys, out);
    out.kind = Action::Kind::clear;
  } else if (cJSON_GetObjectItemCaseSensitive(v, "output") != nullptr) {
    out.kind = Action::Kind::output;
    read_pattern(v, out.pattern, path);
  } else {
    out.kind = Action::Kind::intent;
    const cJSON* kind = cJSON_GetObjectItemCaseSensitive(v, "intent");
    if (!cJSON_IsString(kind)) {
      error(child(path, "intent"), std::string("expected a string, got ") + json_kind(kind));
      return;
    }
    out.intent_kind = kind->valuestring;
    Json inputs(cJSON_Duplicate(v, 1));
    cJSON_DeleteItemFromObjectCaseSensitive(inputs.get(), "intent");
    JsonText text(cJSON_PrintUnformatted(inputs.get()));
    out.inputs_json = text ? text.get() : "{}";
  }
}

void ProfileReader::collect_context_keys(const cJSON* rules) {
  context_keys_ = {"station", "run.procedureId"};
  for (const cJSON* r = rules != nullptr ? rules->child : nullptr; r != nullptr; r = r->next) {
    const cJSON* actions = cJSON_GetObjectItemCaseSensitive(r, "do");
    for (const cJSON* a = actions != nullptr ? actions->child : nullptr; a != nullptr; a = a->next) {
      const cJSON* set = cJSON_GetObjectItemCaseSensitive(a, "set");
      if (cJSON_IsString(set)) {
        context_keys_.insert(set->valuestring);
      }
    }
  }
}

void ProfileReader::check_template(const std::string& tpl, const Rule& rule, const std::string& path) {
  auto vars = template_variables(tpl);
  if (!vars.ok()) {
    error(path, "bad template: " + vars.error().what);
    return;
  }
  bool scan_rule = rule.event == "scan";
  for (const auto& name : *vars) {
    bool ok = name == "input" || context_keys_.count(name) != 0;
    bool gs1 = name.rfind("gs1.", 0) == 0 && is_ai(name.substr(4));
    bool match = name.size() == 7 && name.rfind("match.", 0) == 0 && is_digit(name[6]);
    if (name == "scan" || gs1) {
      ok = scan_rule;
      if (!ok) {
        error(path, "bad template: {" + name + "} needs a scan rule");
        continue;
      }
    } else if (match) {
      if (!rule.match_source.empty() && !rule.match) {
        continue;  // the bad regex itself is already reported
      }
      ok = scan_rule && rule.match && static_cast<std::size_t>(name[6] - '0') <= rule.match->groups();
      if (!ok) {
        error(path, "bad template: {" + name + "} names no group of this rule's 'match'");
        continue;
      }
    }
    if (!ok) {
      error(path, "bad template: unknown variable {" + name + "} (no rule sets it)");
    }
  }
}

void ProfileReader::check_templates_in(const cJSON* v, const Rule& rule, const std::string& path) {
  if (cJSON_IsString(v)) {
    check_template(v->valuestring, rule, path);
  } else if (cJSON_IsObject(v)) {
    for (const cJSON* m = v->child; m != nullptr; m = m->next) {
      check_templates_in(m, rule, child(path, m->string));
    }
  } else if (cJSON_IsArray(v)) {
    int i = 0;
    for (const cJSON* m = v->child; m != nullptr; m = m->next, ++i) {
      check_templates_in(m, rule, index(path, i));
    }
  }
}

void ProfileReader::check_intent(const Action& a, const cJSON* obj, const Rule& rule,
                                 const std::string& path) {
  const IntentKind* kind = find_intent_kind(a.intent_kind);
  if (kind == nullptr) {
    error(child(path, "intent"),
          "unknown intent kind '" + a.intent_kind + "' (expected one of: " + intent_kind_names() + ")");
    return;
  }
  for (const cJSON* m = obj->child; m != nullptr; m = m->next) {
    std::string k = m->string;
    if (k == "intent") {
      continue;
    }
    bool known = false;
    for (const auto& in : kind->inputs) {
      known = known || k == in.name;
    }
    if (!known) {
      error(child(path, k), "unknown input for " + a.intent_kind);
      continue;
    }
    check_templates_in(m, rule, child(path, k));
  }
  for (const auto& in : kind->inputs) {
    if (!in.required) {
      continue;
    }
    std::string k = in.name;
    bool implicit =
        (k == "serial" && kind->serial_from_unit) || (k == "procedureId" && kind->procedure_from_run);
    if (!implicit && cJSON_GetObjectItemCaseSensitive(obj, in.name) == nullptr) {
      error(path, "missing required input '" + k + "' for " + a.intent_kind);
    }
  }
}

void ProfileReader::check_rules(const Profile& p, const cJSON* rules) {
  int i = 0;
  for (const cJSON* rv = rules != nullptr ? rules->child : nullptr;
       rv != nullptr && i < static_cast<int>(p.rules.size()); rv = rv->next, ++i) {
    const Rule& rule = p.rules[static_cast<std::size_t>(i)];
    std::string path = index("$.rules", i);
    const InputSpec* in = rule.on.empty() ? nullptr : p.input(rule.on);
    if (!rule.on.empty() && in == nullptr) {
      error(child(path, "on"), "unknown input '" + rule.on + "'");
    }
    static const std::set<std::string> kEvents = {"scan", "press", "release", "long_press"};
    bool event_set = cJSON_GetObjectItemCaseSensitive(rv, "event") != nullptr;
    if (kEvents.count(rule.event) == 0) {
      error(child(path, "event"), "unknown event (expected scan, press, release, long_press)");
    } else if (in != nullptr && in->is_scanner() && rule.event != "scan") {
      error(child(path, "event"), "a scanner input only sends 'scan'");
    } else if (in != nullptr && in->type == InputSpec::Type::gpio && rule.event == "scan") {
      error(event_set ? child(path, "event") : child(path, "on"),
            "a gpio input sends press/release/long_press; set \"event\"");
    }
    if (rule.event != "scan" && (rule.match || !rule.gs1.empty())) {
      error(path, "'match' and 'gs1' apply to scan rules only");
    }
    const cJSON* actions = cJSON_GetObjectItemCaseSensitive(rv, "do");
    int j = 0;
    for (const cJSON* av = actions != nullptr ? actions->child : nullptr;
         av != nullptr && j < static_cast<int>(rule.actions.size()); av = av->next, ++j) {
      const Action& a = rule.actions[static_cast<std::size_t>(j)];
      std::string apath = index(child(path, "do"), j);
      if (a.kind == Action::Kind::set) {
        check_template(a.value, rule, child(apath, "to"));
      } else if (a.kind == Action::Kind::intent && !a.intent_kind.empty()) {
        check_intent(a, av, rule, apath);
      }
    }
  }
}

void ProfileReader::apply_default_feedback(Profile& p) {
  // Distinct defaults when the station has the usual green/red pair: one calm green pulse for
  // "accepted"; red patterns an operator learns by rhythm.
  bool green = p.output("green") != nullptr;
  bool red = p.output("red") != nullptr;
  auto put = [&](Signal s, Pattern pat) {
    if (p.feedback.count(s) == 0) {
      p.feedback[s].push_back(pat);
    }
  };
  if (green)
    put(Signal::accepted, {"green", "pulse 300ms"});
  if (red) {
    put(Signal::bad_scan, {"red", "blink 200ms x3"});
    put(Signal::not_matched, {"red", "blink 200ms x3"});
    put(Signal::no_unit, {"red", "blink 400ms/200ms x2"});
    put(Signal::queue_full, {"red", "pulse 1500ms"});
    put(Signal::storage_error, {"red", "blink 120ms x6"});
  }
}

Profile ProfileReader::read(const cJSON* root) {
  Profile p;
  if (!cJSON_IsObject(root)) {
    error("$", std::string("expected an object, got ") + json_kind(root));
    return p;
  }
  // Outputs first, so patterns anywhere can be checked against them.
  const cJSON* outputs = cJSON_GetObjectItemCaseSensitive(root, "outputs");
  Profile outputs_only;
  if (cJSON_IsObject(outputs)) {
    ProfileReader scratch(file_);  // its errors are reported by the full pass below
    store_outputs(scratch, outputs, outputs_only, "$.outputs");
  }
  profile_ = &outputs_only;
  collect_context_keys(cJSON_GetObjectItemCaseSensitive(root, "rules"));
  read_object(*this, root, "$", kTopKeys, p);
  profile_ = nullptr;
  check_rules(p, cJSON_GetObjectItemCaseSensitive(root, "rules"));
  apply_default_feedback(p);
  return p;
}

}  // namespace agent
