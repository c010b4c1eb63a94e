// SPDX-License-Identifier: Apache-2.0
#include "agent/workflow/workflow.hpp"

#include <cstdio>

#include "agent/common/json.hpp"
#include "agent/intent/kinds.hpp"
#include "agent/profile/value_template.hpp"

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

Workflow::Workflow(std::shared_ptr<const Profile> profile, Gs1Decoder gs1)
    : profile_(std::move(profile)), gs1_(std::move(gs1)) {
  build_parsers();
}

void Workflow::set_profile(std::shared_ptr<const Profile> profile) {
  profile_ = std::move(profile);
  build_parsers();
}

void Workflow::build_parsers() {
  parsers_.clear();
  parser_errors_.clear();
  for (const auto& in : profile_->inputs) {
    if (!in.is_instrument()) {
      continue;
    }
    DialectOptions o;
    o.dialect = in.dialect;
    o.parse = in.parse;
    o.unit = in.unit;
    o.stable_only = in.stable_only;
    auto p = ReadingParser::create(std::move(o));
    if (p.ok()) {
      parsers_.emplace(in.name, std::move(p).value());
    } else {
      parser_errors_[in.name] = p.error().what;  // a validated profile never gets here
    }
  }
}

namespace {

std::string limit_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

Reaction Workflow::on_reading(const hal::StationEvent& ev, const EventTime& at, IntentSink& sink) {
  Reaction r;
  if (!ev.error.empty()) {
    return signal(std::move(r), Signal::bad_reading, ev.input + ": no reading: " + ev.error);
  }
  auto it = parsers_.find(ev.input);
  if (it == parsers_.end()) {
    auto why = parser_errors_.find(ev.input);
    return signal(std::move(r), Signal::bad_reading,
                  ev.input + ": " + (why != parser_errors_.end() ? why->second : "not an instrument input"));
  }
  auto reading = it->second.parse(ev.text);
  if (!reading.ok()) {
    return signal(std::move(r), Signal::bad_reading, ev.input + ": reading refused: " + reading.error().what);
  }
  const InputSpec* in = profile_->input(ev.input);
  std::string value = reading->text + (reading->unit.empty() ? "" : " " + reading->unit);
  if (in != nullptr && in->min && reading->value < *in->min) {
    return signal(std::move(r), Signal::out_of_limits,
                  ev.input + ": " + value + " below min " + limit_text(*in->min));
  }
  if (in != nullptr && in->max && reading->value > *in->max) {
    return signal(std::move(r), Signal::out_of_limits,
                  ev.input + ": " + value + " above max " + limit_text(*in->max));
  }
  Scan scan{&ev, {}, {}, &*reading};
  const auto& rules = profile_->rules;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (matches(rules[i], ev, scan)) {
      Reaction done = run_rule(static_cast<int>(i), scan, at, sink);
      done.message = value + ": " + done.message;
      return done;
    }
  }
  return signal(std::move(r), Signal::not_matched, ev.input + ": " + value + ": no rule for this reading");
}

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
  if (name == "reading.value" || name == "reading.unit") {
    if (scan.reading == nullptr) {
      return std::nullopt;
    }
    return name == "reading.value" ? scan.reading->text : scan.reading->unit;
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
  return intent;
}

Reaction Workflow::on_event(const hal::StationEvent& ev, const EventTime& at, IntentSink& sink) {
  Reaction r;
  if (ev.kind == hal::StationEvent::Kind::reading) {
    return on_reading(ev, at, sink);
  }
  if (ev.kind == hal::StationEvent::Kind::scan && !ev.error.empty()) {
    return signal(std::move(r), Signal::bad_scan, ev.input + ": rejected scan: " + ev.error);
  }
  Scan scan{&ev, {}, {}, nullptr};
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
  std::vector<std::string> reads;
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
      case Action::Kind::read:
        reads.push_back(a.key);
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
  if (!intents.empty()) {
    auto ids = sink.append_all(intents);
    if (!ids.ok()) {
      Signal s = ids.error().code == hal::Errc::busy ? Signal::queue_full : Signal::storage_error;
      return signal(std::move(r), s, where + ": not accepted: " + ids.error().what);
    }
    r.intent_ids = std::move(ids).value();
  }
  context_ = std::move(next);
  r.outputs = outputs;
  r.reads = std::move(reads);
  return signal(std::move(r), Signal::accepted,
                where + ": accepted " + std::to_string(intents.size()) + " intent(s)");
}

}  // namespace agent
