// SPDX-License-Identifier: Apache-2.0
// The station profile's sections as key tables: top level, ion, outputs, rules, actions,
// feedback, outbox, logging, metrics, context, interlocks (inputs: schema_inputs.cpp). See
// profile.hpp for the format; a new key is a row here (and a field in profile.hpp).
#include <cmath>
#include <map>

#include "agent/common/json.hpp"
#include "agent/profile/value_template.hpp"
#include "hal/output_pattern.hpp"
#include "key_table.hpp"
#include "reader.hpp"

namespace agent {
using namespace keys;
namespace {

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
    {"batch_max", JType::integer, false, 1, 100, ION_INT(IonSettings, batch_max),
     "requests (intents) per batched GraphQL document (1 = no batching)"},
    {"watch_network", JType::boolean, false, 0, 0, ION_BOOL(IonSettings, watch_network),
     "probe ION at once when a link, address or route comes back (netlink; on takes a restart)"},
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

void store_require(ProfileReader& r, const cJSON* v, Rule& o, const std::string& path) {
  int i = 0;
  for (const cJSON* e = v->child; e != nullptr; e = e->next, ++i) {
    auto c = cJSON_IsString(e) ? parse_condition(e->valuestring) : std::nullopt;
    if (!c) {
      r.error(index(path, i), "expected no_open_issues, run_not_held or at_location:NAME");
      continue;
    }
    o.require.push_back(std::move(*c));
  }
  if (i == 0) {
    r.error(path, "expected at least one condition");
  }
}

void store_offline(ProfileReader& r, const cJSON* v, Rule& o, const std::string& path) {
  std::string w = v->valuestring;
  if (w == "accept" || w == "refuse") {
    o.offline = w == "accept" ? Rule::Offline::accept : Rule::Offline::refuse;
  } else {
    r.error(path, "unknown value '" + w + "' (expected accept, refuse)");
  }
}

const Key<Rule> kRuleKeys[] = {
    {"on", JType::string, true, 0, 0, ION_STR(Rule, on), "input name"},
    {"event", JType::string, false, 0, 0, ION_STR(Rule, event),
     "scan | press | release | long_press | reading"},
    {"match", JType::string, false, 0, 0, store_match,
     "POSIX extended regex (ERE) the whole scan must match"},
    {"gs1", JType::array, false, 0, 0, store_gs1, "GS1 AIs the scan must carry"},
    {"do", JType::array, true, 0, 0, store_actions, "actions, in order"},
    {"require", JType::array, false, 0, 0, store_require,
     "ION conditions checked before accepting: no_open_issues, run_not_held, at_location:NAME"},
    {"offline", JType::string, false, 0, 0, store_offline,
     "ION unreachable for a 'require' check: refuse (default) | accept (queue, noting the skip)"},
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
      r.error(at,
              "unknown signal (expected accepted, bad_scan, no_unit, queue_full, storage_error, not_matched, "
              "interlock, out_of_limits, bad_reading)");
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
const Key<ContextSettings> kContextKeys[] = {
    {"max_age_s", JType::integer, false, 0, 30 * 24 * 3600, ION_INT(ContextSettings, max_age_s),
     "a context saved longer ago is dropped at start or reload (0 = never)"},
};

const Key<InterlockSettings> kInterlockKeys[] = {
    {"timeout_ms", JType::integer, false, 100, 60000, ION_INT(InterlockSettings, timeout_ms),
     "longest wait for ION's answer to a 'require' check"},
    {"cache_s", JType::integer, false, 0, 3600, ION_INT(InterlockSettings, cache_s),
     "reuse a unit's passed check this long (0 = ask every time)"},
};

const Key<Profile> kTopKeys[] = {
    {"station", JType::string, false, 0, 0, ION_STR(Profile, station), "station name"},
    {"location", JType::string, false, 0, 0, ION_STR(Profile, location),
     "the station's ION location name ({station.location})"},
    {"interlocks", JType::object, false, 0, 0,
     [](ProfileReader& r, const cJSON* v, Profile& p, const std::string& at) {
       read_object(r, v, at, kInterlockKeys, p.interlocks);
     },
     "timeouts of the rules' 'require' checks"},
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
    {"context", JType::object, false, 0, 0,
     [](ProfileReader& r, const cJSON* v, Profile& p, const std::string& at) {
       read_object(r, v, at, kContextKeys, p.context);
     },
     "station context kept across restarts"},
};

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
  for (const char* k : {"set", "clear", "intent", "output", "read"}) {
    kinds += cJSON_GetObjectItemCaseSensitive(v, k) != nullptr ? 1 : 0;
  }
  if (kinds != 1) {
    error(path, "an action needs exactly one of 'set', 'clear', 'intent', 'output', 'read'");
    return;
  }
  if (cJSON_GetObjectItemCaseSensitive(v, "read") != nullptr) {
    static const Key<Action> kReadKeys[] = {
        {"read", JType::string, true, 0, 0, ION_STR(Action, key), "instrument input to query"}};
    read_object(*this, v, path, kReadKeys, out);
    out.kind = Action::Kind::read;
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

void ProfileReader::read_sections(const cJSON* root, Profile& p) {
  read_object(*this, root, "$", kTopKeys, p);
}

void ProfileReader::read_outputs(const cJSON* outputs, Profile& p) {
  store_outputs(*this, outputs, p, "$.outputs");
}

}  // namespace agent
