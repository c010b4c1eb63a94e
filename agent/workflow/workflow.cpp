// SPDX-License-Identifier: Apache-2.0
#include "agent/workflow/workflow.hpp"

#include "agent/common/json.hpp"
#include "agent/intent/kinds.hpp"
#include "agent/profile/value_template.hpp"
#include "hal/text.hpp"

namespace agent {
namespace {

// Renders every string leaf of an intent's inputs as a template. Values only: the rendered
// text becomes a JSON string value, which cJSON escapes when printing.
hal::Status render_leaves(cJSON* node, const TemplateLookup& lookup) {
  for (cJSON* m = node->child; m != nullptr; m = m->next) {
    if (cJSON_IsString(m)) {
      auto v = render_template(m->valuestring, lookup);
      if (!v.ok()) {
        return std::move(v).error();
      }
      if (cJSON_SetValuestring(m, v->c_str()) == nullptr) {
        return hal::Error(hal::Errc::internal, "workflow: out of memory");
      }
    } else if (cJSON_IsObject(m) || cJSON_IsArray(m)) {
      ION_TRY(render_leaves(m, lookup), m->string != nullptr ? m->string : "[]");
    }
  }
  return hal::ok();
}

bool has(const cJSON* obj, const char* key) {
  return cJSON_GetObjectItemCaseSensitive(obj, key) != nullptr;
}

}  // namespace

std::string context_to_json(const std::map<std::string, std::string>& context) {
  Json o(cJSON_CreateObject());
  for (const auto& kv : context) {
    cJSON_AddStringToObject(o.get(), kv.first.c_str(), kv.second.c_str());
  }
  JsonText t(cJSON_PrintUnformatted(o.get()));
  return t ? t.get() : "{}";
}

hal::Result<std::map<std::string, std::string>> context_from_json(const std::string& json) {
  Json o(cJSON_Parse(json.c_str()));
  if (!o || !cJSON_IsObject(o.get())) {
    return hal::Error(hal::Errc::parse, "saved context is not a JSON object");
  }
  std::map<std::string, std::string> out;
  for (const cJSON* m = o->child; m != nullptr; m = m->next) {
    if (!cJSON_IsString(m) || m->string == nullptr) {
      return hal::Error(hal::Errc::parse, "saved context: a value is not a string");
    }
    out[m->string] = m->valuestring;
  }
  return out;
}

Workflow::Workflow(std::shared_ptr<const Profile> profile, Gs1Decoder gs1)
    : profile_(std::move(profile)), gs1_(std::move(gs1)) {}

bool Workflow::matches(const Rule& rule, const hal::StationEvent& ev, Scan& scan) const {
  if (rule.on != ev.input || rule.event != hal::to_string(ev.kind)) {
    return false;
  }
  if (ev.kind != hal::StationEvent::Kind::scan) {
    return true;
  }
  scan.groups.assign(1, ev.text);
  if (rule.match && !rule.match->full_match(ev.text, &scan.groups)) {
    return false;
  }
  for (const auto& ai : rule.gs1) {
    if (scan.gs1.count(ai) == 0) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> Workflow::lookup(const std::string& name, const Scan& scan,
                                            const Context& ctx) const {
  if (name == "scan" && scan.ev->kind == hal::StationEvent::Kind::scan) {
    return scan.ev->text;
  }
  if (name == "input") {
    return scan.ev->input;
  }
  if (name == "station") {
    return profile_->station;
  }
  if (name.rfind("gs1.", 0) == 0) {
    auto it = scan.gs1.find(name.substr(4));
    return it != scan.gs1.end() ? std::optional<std::string>(it->second) : std::nullopt;
  }
  if (name.rfind("match.", 0) == 0) {
    std::size_t n = static_cast<std::size_t>(std::stoi(name.substr(6)));
    return n < scan.groups.size() ? std::optional<std::string>(scan.groups[n]) : std::nullopt;
  }
  auto it = ctx.find(name);
  return it != ctx.end() ? std::optional<std::string>(it->second) : std::nullopt;
}

Reaction Workflow::signal(Reaction r, Signal s, const std::string& why) const {
  r.signal = s;
  r.message = why;
  auto it = profile_->feedback.find(s);
  if (it != profile_->feedback.end()) {
    r.outputs.insert(r.outputs.end(), it->second.begin(), it->second.end());
  }
  return r;
}

// Renders one intent action against the rule's working context. On failure `why` says which
// red signal fits.
hal::Result<NewIntent> Workflow::build_intent(const Action& a, const TemplateLookup& look, Context& next,
                                              Signal& why) const {
  Json inputs(cJSON_Parse(a.inputs_json.c_str()));
  const IntentKind* kind = find_intent_kind(a.intent_kind);
  if (!inputs || kind == nullptr) {
    why = Signal::storage_error;
    return hal::Error(hal::Errc::internal, "invalid intent in profile");
  }
  // Render the profile's templates first: values added below come from the context and are
  // data, never templates themselves.
  auto st = render_leaves(inputs.get(), look);
  if (!st.ok()) {
    why = Signal::bad_scan;
    return std::move(st).error();
  }
  // Implicit inputs from the context: the unit on the bench, the run it is in.
  if (kind->serial_from_unit && !has(inputs.get(), "serial")) {
    auto serial = look("unit.serial");
    if (!serial) {
      why = Signal::no_unit;
      return hal::Error(hal::Errc::not_found, "no unit scanned yet");
    }
    cJSON_AddStringToObject(inputs.get(), "serial", serial->c_str());
  }
  if (kind->procedure_from_run && !has(inputs.get(), "procedureId")) {
    auto proc = look("run.procedureId");
    if (proc) {
      cJSON_AddStringToObject(inputs.get(), "procedureId", proc->c_str());
    } else {
      why = Signal::no_unit;
      return hal::Error(hal::Errc::not_found, "no run started for this unit yet");
    }
  }
  if (a.intent_kind == "run.ensure") {
    const cJSON* proc = cJSON_GetObjectItemCaseSensitive(inputs.get(), "procedureId");
    if (cJSON_IsString(proc)) {
      next["run.procedureId"] = proc->valuestring;
    }
  }
  const cJSON* serial = cJSON_GetObjectItemCaseSensitive(inputs.get(), "serial");
  JsonText text(cJSON_PrintUnformatted(inputs.get()));
  NewIntent intent;
  intent.kind = a.intent_kind;
  intent.inputs_json = text ? text.get() : "{}";
  intent.subject = cJSON_IsString(serial) ? serial->valuestring : "";
  // The outbox checks again; checked here so the reason is the scan's (red bad_scan), not a
  // storage error.
  if (auto valid = validate_intent(intent.kind, intent.inputs_json); !valid.ok()) {
    why = Signal::bad_scan;
    return std::move(valid).error();
  }
  return intent;
}

Reaction Workflow::on_event(const hal::StationEvent& ev, const EventTime& at, IntentSink& sink) {
  Reaction r;
  if (ev.kind == hal::StationEvent::Kind::scan && !ev.error.empty()) {
    return signal(std::move(r), Signal::bad_scan, ev.input + ": rejected scan: " + ev.error);
  }
  if (ev.kind == hal::StationEvent::Kind::scan) {
    // Nothing green that cannot be sent: ION takes UTF-8 JSON only, and a NUL would cut the
    // text short in every template it reaches.
    if (std::size_t valid = hal::utf8_valid_prefix(ev.text); valid != ev.text.size()) {
      return signal(std::move(r), Signal::bad_scan,
                    ev.input + ": rejected scan: not valid UTF-8 (byte " + std::to_string(valid) + ")");
    }
    if (std::size_t nul = ev.text.find('\0'); nul != std::string::npos) {
      return signal(std::move(r), Signal::bad_scan,
                    ev.input + ": rejected scan: NUL character (byte " + std::to_string(nul) + ")");
    }
  }
  Scan scan{&ev, {}, {}};
  if (ev.kind == hal::StationEvent::Kind::scan && gs1_) {
    scan.gs1 = gs1_(ev);
  }
  const auto& rules = profile_->rules;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (matches(rules[i], ev, scan)) {
      return run_rule(static_cast<int>(i), scan, at, sink);
    }
  }
  if (ev.kind == hal::StationEvent::Kind::scan) {
    return signal(std::move(r), Signal::not_matched, ev.input + ": no rule matches this label");
  }
  r.message = ev.input + ": " + hal::to_string(ev.kind) + ": no rule";
  return r;
}

Reaction Workflow::run_rule(int index, const Scan& scan, const EventTime& at, IntentSink& sink) {
  Reaction r;
  r.rule = index;
  const Rule& rule = profile_->rules[static_cast<std::size_t>(index)];
  const std::string where = "rule " + std::to_string(index) + " (" + rule.on + ")";
  Context next = context_;
  TemplateLookup look = [&](const std::string& n) { return lookup(n, scan, next); };
  std::vector<NewIntent> intents;
  std::vector<Pattern> outputs;
  for (const Action& a : rule.actions) {
    switch (a.kind) {
      case Action::Kind::set: {
        auto v = render_template(a.value, look);
        if (!v.ok()) {
          return signal(std::move(r), Signal::bad_scan, where + ": " + v.error().what);
        }
        next[a.key] = *v;
        break;
      }
      case Action::Kind::clear:
        if (a.key == "*") {
          next.clear();
        } else {
          next.erase(a.key);
        }
        break;
      case Action::Kind::output:
        outputs.push_back(a.pattern);
        break;
      case Action::Kind::intent: {
        Signal why = Signal::bad_scan;
        auto intent = build_intent(a, look, next, why);
        if (!intent.ok()) {
          return signal(std::move(r), why, where + ": " + intent.error().what);
        }
        intent->at = at;
        intents.push_back(std::move(intent).value());
        break;
      }
    }
  }
  const bool context_changed = next != context_;
  if (!intents.empty() || context_changed) {
    auto ids = sink.commit(intents, context_changed ? &next : nullptr);
    if (!ids.ok()) {
      Signal s = ids.error().code == hal::Errc::busy ? Signal::queue_full : Signal::storage_error;
      return signal(std::move(r), s, where + ": not accepted: " + ids.error().what);
    }
    r.intent_ids = std::move(ids).value();
  }
  context_ = std::move(next);
  r.outputs = outputs;
  return signal(std::move(r), Signal::accepted,
                where + ": accepted " + std::to_string(intents.size()) + " intent(s)");
}

}  // namespace agent
