// SPDX-License-Identifier: Apache-2.0
// The checks that span sections of a profile (rules against inputs, templates against the
// context keys some rule sets, intents against the kind table, patterns against outputs) and
// the order of the whole read. The key tables are in schema.cpp, the engine in key_table.hpp.
#include "reader.hpp"

#include "agent/common/json.hpp"
#include "agent/intent/kinds.hpp"
#include "agent/profile/value_template.hpp"
#include "hal/output_pattern.hpp"
#include "key_table.hpp"

namespace agent {
using namespace keys;

void ProfileReader::error(const std::string& path, const std::string& reason) {
  errors_.push_back(file_ + ": " + path + ": " + reason);
}

void ProfileReader::collect_context_keys(const cJSON* rules, const cJSON* location) {
  context_keys_ = {"station", "run.procedureId"};
  if (cJSON_IsString(location) && location->valuestring[0] != '\0') {
    context_keys_.insert("station.location");
  }
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
    if (name == "reading.value" || name == "reading.unit") {
      if (rule.event != "reading") {
        error(path, "bad template: {" + name + "} needs a reading rule (\"event\": \"reading\")");
      }
      continue;
    }
    if (name == "file.name" || name == "file.path" || name == "file.line1") {
      if (rule.event != "file") {
        error(path, "bad template: {" + name + "} needs a file rule (\"event\": \"file\")");
      }
      continue;
    }
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
      ok = (scan_rule || rule.event == "file") && rule.match &&
           static_cast<std::size_t>(name[6] - '0') <= rule.match->groups();
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
    if (a.intent_kind == "file.attach" && (k == "source" || k == "copy" || k == "sha256" || k == "size")) {
      error(child(path, k), "set by the agent from the event's file, not by the profile");
      continue;
    }
    check_templates_in(m, rule, child(path, k));
  }
  for (const auto& in : kind->inputs) {
    if (!in.required) {
      continue;
    }
    std::string k = in.name;
    bool implicit = (k == "serial" && kind->serial_from_unit) ||
                    (k == "procedureId" && kind->procedure_from_run) ||
                    (k == "source" && kind->file_from_event);
    if (!implicit && cJSON_GetObjectItemCaseSensitive(obj, in.name) == nullptr) {
      error(path, "missing required input '" + k + "' for " + a.intent_kind);
    }
  }
}

void ProfileReader::check_require(const Rule& rule, const cJSON* rv, const std::string& path) {
  const cJSON* req = cJSON_GetObjectItemCaseSensitive(rv, "require");
  int k = 0;
  for (const cJSON* e = cJSON_IsArray(req) ? req->child : nullptr; e != nullptr; e = e->next, ++k) {
    auto c = cJSON_IsString(e) ? parse_condition(e->valuestring) : std::nullopt;
    if (c && c->kind == Condition::Kind::at_location) {
      check_template(c->arg, rule, index(child(path, "require"), k));
    }
  }
  if (rule.require.empty() && cJSON_GetObjectItemCaseSensitive(rv, "offline") != nullptr) {
    error(child(path, "offline"), "'offline' applies to rules with 'require' only");
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
    static const std::set<std::string> kEvents = {"scan",       "press",   "release",
                                                  "long_press", "reading", "file"};
    bool event_set = cJSON_GetObjectItemCaseSensitive(rv, "event") != nullptr;
    if (kEvents.count(rule.event) == 0) {
      error(child(path, "event"), "unknown event (expected scan, press, release, long_press, reading, file)");
    } else if (in != nullptr && in->is_instrument() && rule.event != "reading") {
      error(event_set ? child(path, "event") : child(path, "on"),
            "an instrument input sends 'reading'; set \"event\": \"reading\"");
    } else if (in != nullptr && !in->is_instrument() && in->type != InputSpec::Type::sim &&
               rule.event == "reading") {
      error(child(path, "event"), "only an instrument input sends 'reading'");
    } else if (in != nullptr && in->is_folder() && rule.event != "file") {
      error(event_set ? child(path, "event") : child(path, "on"),
            "a folder input sends 'file'; set \"event\": \"file\"");
    } else if (in != nullptr && !in->is_folder() && in->type != InputSpec::Type::sim &&
               rule.event == "file") {
      error(child(path, "event"), "only a folder input sends 'file'");
    } else if (in != nullptr && in->is_scanner() && rule.event != "scan") {
      error(child(path, "event"), "a scanner input only sends 'scan'");
    } else if (in != nullptr && in->type == InputSpec::Type::gpio && rule.event == "scan") {
      error(event_set ? child(path, "event") : child(path, "on"),
            "a gpio input sends press/release/long_press; set \"event\"");
    }
    if (rule.event != "scan" && rule.event != "file" && rule.match) {
      error(path, "'match' applies to scan rules (the label) and file rules (the file's first line) only");
    }
    if (rule.event != "scan" && !rule.gs1.empty()) {
      error(path, "'gs1' applies to scan rules only");
    }
    check_require(rule, rv, path);
    const cJSON* actions = cJSON_GetObjectItemCaseSensitive(rv, "do");
    int j = 0;
    for (const cJSON* av = actions != nullptr ? actions->child : nullptr;
         av != nullptr && j < static_cast<int>(rule.actions.size()); av = av->next, ++j) {
      const Action& a = rule.actions[static_cast<std::size_t>(j)];
      std::string apath = index(child(path, "do"), j);
      if (a.kind == Action::Kind::read) {
        const InputSpec* target = p.input(a.key);
        if (target == nullptr || !target->is_instrument()) {
          error(child(apath, "read"), "unknown instrument '" + a.key + "'");
        } else if (target->mode != "query") {
          error(child(apath, "read"),
                "instrument '" + a.key + "' is mode 'stream'; 'read' needs mode 'query'");
        }
      } else if (a.kind == Action::Kind::set) {
        check_template(a.value, rule, child(apath, "to"));
      } else if (a.kind == Action::Kind::intent && !a.intent_kind.empty()) {
        check_intent(a, av, rule, apath);
        const IntentKind* kind = find_intent_kind(a.intent_kind);
        if (kind != nullptr && kind->file_from_event && rule.event != "file") {
          error(child(apath, "intent"), a.intent_kind + " needs a file rule (\"event\": \"file\")");
        }
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
    put(Signal::interlock, {"red", "blink 800ms/200ms x3"});
    put(Signal::out_of_limits, {"red", "pulse 800ms"});
    put(Signal::bad_reading, {"red", "blink 300ms x2"});
    put(Signal::bad_file, {"red", "blink 300ms/100ms x4"});
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
    scratch.read_outputs(outputs, outputs_only);
  }
  profile_ = &outputs_only;
  collect_context_keys(cJSON_GetObjectItemCaseSensitive(root, "rules"),
                       cJSON_GetObjectItemCaseSensitive(root, "location"));
  read_sections(root, p);
  profile_ = nullptr;
  check_rules(p, cJSON_GetObjectItemCaseSensitive(root, "rules"));
  // A file is copied into the outbox when it is accepted: one the outbox can never hold would
  // be refused every time. Said at load, not at the first file.
  for (const auto& in : p.inputs) {
    if (in.is_folder() && in.max_file_mb >= p.outbox.max_mb) {
      error(child(child("$.inputs", in.name), "max_mb"),
            std::to_string(in.max_file_mb) + " MiB files can never fit the outbox (outbox.max_mb " +
                std::to_string(p.outbox.max_mb) +
                " holds the copies with the queue); lower it or raise outbox.max_mb");
    }
  }
  apply_default_feedback(p);
  return p;
}

}  // namespace agent
