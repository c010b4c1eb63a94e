// SPDX-License-Identifier: Apache-2.0
#include "agent/workflow/workflow.hpp"

#include <cstdio>

#include "agent/common/json.hpp"
#include "agent/intent/kinds.hpp"
#include "agent/profile/value_template.hpp"
#include "hal/text.hpp"

namespace agent {
namespace {

constexpr std::size_t kMaxWaiting = 64;  // events queued behind one interlock check

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

const IntentInput* input_of(const IntentKind& kind, const char* name) {
  for (const auto& in : kind.inputs) {
    if (std::string(in.name) == name) {
      return &in;
    }
  }
  return nullptr;
}

// The note a skipped interlock check leaves in each intent whose kind takes one.
void note_skipped_check(NewIntent& intent, const std::string& why) {
  const IntentKind* kind = find_intent_kind(intent.kind);
  Json in(cJSON_Parse(intent.inputs_json.c_str()));
  if (kind == nullptr || input_of(*kind, "interlock") == nullptr || !in) {
    return;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(in.get(), "interlock");
  cJSON_AddStringToObject(in.get(), "interlock", ("skipped: " + why).c_str());
  JsonText text(cJSON_PrintUnformatted(in.get()));
  if (text) {
    intent.inputs_json = text.get();
  }
}

// "result.csv" of "/srv/out/result.csv".
std::string file_name(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string conditions_text(const std::vector<Condition>& cs) {
  std::string out;
  for (const auto& c : cs) {
    out += (out.empty() ? "" : ", ") + to_string(c);
  }
  return out;
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

Workflow::~Workflow() = default;

bool Workflow::matches(const Rule& rule, const hal::StationEvent& ev, Scan& scan) const {
  if (rule.on != ev.input || rule.event != hal::to_string(ev.kind)) {
    return false;
  }
  if (ev.kind == hal::StationEvent::Kind::file) {
    // A file rule's `match` is on the file's first line (a tester's verdict line).
    scan.groups.assign(1, ev.first_line);
    return !rule.match || rule.match->full_match(ev.first_line, &scan.groups);
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
  if ((name == "file.path" || name == "file.name" || name == "file.line1") &&
      scan.ev->kind == hal::StationEvent::Kind::file) {
    return name == "file.path"    ? scan.ev->text
           : name == "file.line1" ? scan.ev->first_line
                                  : file_name(scan.ev->text);
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
  if (name == "station.location" && !profile_->location.empty()) {
    return profile_->location;
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
  if (s != Signal::accepted) {
    r.reads.clear();  // instruments are queried only once their rule fully succeeded
  }
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
  // A kind that may take the run's procedure (issue.create: the issue goes on the run's step)
  // gets it when the unit has a run; without one it does without.
  const IntentInput* proc_in = input_of(*kind, "procedureId");
  if (proc_in != nullptr && !proc_in->required && !has(inputs.get(), "procedureId")) {
    if (auto proc = look("run.procedureId")) {
      cJSON_AddStringToObject(inputs.get(), "procedureId", proc->c_str());
    }
  }
  // A file intent takes the event's file: the outbox copies it when it accepts the intent.
  if (kind->file_from_event) {
    if (look("file.path") == std::nullopt) {
      why = Signal::bad_file;
      return hal::Error(hal::Errc::parse, a.intent_kind + " needs a file event");
    }
    cJSON_AddStringToObject(inputs.get(), "source", look("file.path")->c_str());
    if (!has(inputs.get(), "filename")) {
      cJSON_AddStringToObject(inputs.get(), "filename", look("file.name")->c_str());
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
    // A file's name or first line that ION can never take (not UTF-8) is the file's fault.
    why = look("file.path") ? Signal::bad_file : Signal::bad_scan;
    return std::move(valid).error();
  }
  return intent;
}

Reaction Workflow::on_event(const hal::StationEvent& ev, const EventTime& at, IntentSink& sink) {
  Reaction r;
  if (pending_) {
    // Behind an interlock check: decided in order once the answer is in. The wait is bounded
    // by the check's deadline; so is this line (a storm of presses meanwhile is refused).
    if (queued_.size() >= kMaxWaiting) {
      return signal(std::move(r), Signal::queue_full,
                    ev.input + ": too many events waiting behind an interlock check");
    }
    queued_.push_back({ev, at, &sink});
    r.deferred = true;
    r.message = ev.input + ": waiting behind an interlock check";
    return r;
  }
  if (ev.kind == hal::StationEvent::Kind::reading) {
    return on_reading(ev, at, sink);
  }
  if (ev.kind == hal::StationEvent::Kind::scan && !ev.error.empty()) {
    return signal(std::move(r), Signal::bad_scan, ev.input + ": rejected scan: " + ev.error);
  }
  if (ev.kind == hal::StationEvent::Kind::file && !ev.error.empty()) {
    return signal(std::move(r), Signal::bad_file, ev.input + ": refused file " + ev.text + ": " + ev.error);
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
  if (ev.kind == hal::StationEvent::Kind::file) {
    return signal(std::move(r), Signal::not_matched, ev.input + ": no rule takes file " + ev.text);
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
  r.reads = std::move(reads);
  if (!rule.require.empty()) {
    Pending p;
    p.r = std::move(r);
    p.where = where;
    p.offline = rule.offline;
    p.intents = std::move(intents);
    p.outputs = std::move(outputs);
    p.sink = &sink;
    InterlockQuery q;
    auto serial = look("unit.serial");
    if (!serial) {
      return signal(std::move(p.r), Signal::no_unit,
                    where + ": 'require' needs a unit; none was scanned yet");
    }
    q.serial = *serial;
    for (const Condition& c : rule.require) {
      Condition rc = c;
      if (c.kind == Condition::Kind::at_location) {
        auto v = render_template(c.arg, look);
        if (!v.ok()) {
          return signal(std::move(p.r), Signal::bad_scan, where + ": require: " + v.error().what);
        }
        rc.arg = *v;
      }
      q.conditions.push_back(std::move(rc));
    }
    p.next = std::move(next);
    p.ev = *scan.ev;
    if (checker_ == nullptr) {
      InterlockAnswer none;
      none.detail = no_checker_why_;
      return decide(p, none);
    }
    p.token = ++next_token_;
    const std::uint64_t token = p.token;
    pending_ = std::move(p);
    std::weak_ptr<bool> alive = alive_;
    auto known = checker_->check(q, [this, alive, token](InterlockAnswer a) {
      if (!alive.expired()) {
        resume(token, a);
      }
    });
    if (known && pending_ && pending_->token == token) {
      Pending mine = std::move(*pending_);
      pending_.reset();
      return decide(mine, *known);
    }
    Reaction d;
    d.rule = index;
    d.deferred = true;
    d.message = where + ": asking ION (" + conditions_text(q.conditions) + ") for " + q.serial;
    return d;
  }
  return commit(std::move(r), where, intents, std::move(outputs), std::move(next), sink);
}

Reaction Workflow::commit(Reaction r, const std::string& where, std::vector<NewIntent>& intents,
                          std::vector<Pattern> outputs, Context next, IntentSink& sink) {
  const bool context_changed = next != context_;
  if (!intents.empty() || context_changed) {
    auto ids = sink.commit(intents, context_changed ? &next : nullptr);
    if (!ids.ok()) {
      Signal s = ids.error().code == hal::Errc::busy ? Signal::queue_full : Signal::storage_error;
      if (ids.error().code == hal::Errc::rejected || ids.error().code == hal::Errc::not_found) {
        s = Signal::bad_file;  // the outbox could not take an intent's file (gone, unreadable)
      }
      return signal(std::move(r), s, where + ": not accepted: " + ids.error().what);
    }
    r.intent_ids = std::move(ids).value();
  }
  context_ = std::move(next);
  r.outputs = std::move(outputs);
  return signal(std::move(r), Signal::accepted,
                where + ": accepted " + std::to_string(intents.size()) + " intent(s)");
}

Reaction Workflow::decide(Pending& p, const InterlockAnswer& a) {
  switch (a.verdict) {
    case InterlockAnswer::Verdict::pass: {
      Reaction r =
          commit(std::move(p.r), p.where, p.intents, std::move(p.outputs), std::move(p.next), *p.sink);
      if (r.signal == Signal::accepted) {
        r.message += " (interlocks passed)";
      }
      return r;
    }
    case InterlockAnswer::Verdict::fail:
      return signal(std::move(p.r), Signal::interlock,
                    p.where + ": interlock " + a.condition + " failed: " + a.detail + "; nothing queued");
    case InterlockAnswer::Verdict::unknown:
      break;
  }
  if (p.offline == Rule::Offline::refuse) {
    return signal(std::move(p.r), Signal::interlock,
                  p.where + ": interlock not checked (" + a.detail + "); offline: refuse, nothing queued");
  }
  for (auto& intent : p.intents) {
    note_skipped_check(intent, a.detail);
  }
  Reaction r = commit(std::move(p.r), p.where, p.intents, std::move(p.outputs), std::move(p.next), *p.sink);
  if (r.signal == Signal::accepted) {
    r.message += " (interlock check skipped: " + a.detail + "; offline: accept)";
  }
  return r;
}

void Workflow::stop_asking(const std::string& why) {
  checker_ = nullptr;
  no_checker_why_ = why;
  if (pending_) {
    InterlockAnswer a;
    a.detail = why;
    resume(pending_->token, a);
  }
}

void Workflow::resume(std::uint64_t token, const InterlockAnswer& a) {
  if (!pending_ || pending_->token != token) {
    return;
  }
  Pending p = std::move(*pending_);
  pending_.reset();
  std::weak_ptr<bool> alive = alive_;
  Reaction r = decide(p, a);
  if (deferred_) {
    deferred_(p.ev, r);
  }
  // The events that waited behind it, in order, until one waits again.
  while (!alive.expired() && !pending_ && !queued_.empty()) {
    Queued q = std::move(queued_.front());
    queued_.pop_front();
    Reaction next = on_event(q.ev, q.at, *q.sink);
    if (!next.deferred && deferred_) {
      deferred_(q.ev, next);
    }
  }
}

}  // namespace agent
