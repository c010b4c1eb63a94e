// SPDX-License-Identifier: Apache-2.0
#include "agent/ion/interlocks.hpp"

#include <strings.h>

#include "agent/common/json.hpp"
#include "lookup.hpp"

namespace agent {
namespace {

bool one_of(const std::string& s, std::initializer_list<const char*> words) {
  for (const char* w : words) {
    if (strcasecmp(s.c_str(), w) == 0) {
      return true;
    }
  }
  return false;
}

bool issue_is_open(const std::string& status) {
  return !one_of(status, {"CLOSED", "RESOLVED", "CANCELED", "CANCELLED", "VOIDED", "DONE"});
}

bool run_is_held(const std::string& status) {
  return one_of(status, {"HOLD", "FAILED", "REDLINE"});
}

std::string describe(const char* what, const cJSON* node) {
  std::string s = std::string(what) + " " + json::id(node);
  auto title = json::str(node, "title");
  if (title && !title->empty()) {
    s += " \"" + *title + "\"";
  }
  return s + " is " + json::str(node, "status").value_or("?");
}

const char* const kStateDoc =
    "query InterlockState($unit: ID!) {"
    " unit: partInventory(id: $unit) { id location { id name } }"
    " issues: issues(filters: {partInventoryId: {eq: $unit}}, first: 50) { edges { node { id title status } "
    "} }"
    " runs: runs(filters: {partInventoryId: {eq: $unit}}, first: 50) { edges { node { id title status } } } "
    "}";

}  // namespace

IonInterlocks::IonInterlocks(GraphqlClient& client, const hal::Clock& clock, InterlockOptions options)
    : client_(client), clock_(clock), options_(options) {}

IonInterlocks::~IonInterlocks() = default;

std::string IonInterlocks::key(const InterlockQuery& q, const Condition& c) {
  return q.serial + "\n" + q.part_number + "\n" + to_string(c);
}

std::optional<InterlockAnswer> IonInterlocks::check(const InterlockQuery& query, Done done) {
  const MonoTime now = clock_.mono();
  // Known when every condition asked passed recently for this unit (in this check or another
  // rule's: a scan that checked three conditions covers the press that checks two).
  bool known = !query.conditions.empty();
  for (const auto& c : query.conditions) {
    auto hit = passed_.find(key(query, c));
    if (hit == passed_.end() || hit->second <= now) {
      known = false;
    }
  }
  if (known) {
    InterlockAnswer a;
    a.verdict = InterlockAnswer::Verdict::pass;
    a.detail = "passed at ION within the last " + std::to_string(options_.cache.count() / 1000) + " s";
    return a;
  }
  const std::uint64_t id = ++next_id_;
  asks_[id] = Ask{query, std::move(done), now + options_.timeout, false};
  auto unit = unit_ids_.find(query.serial + "\n" + query.part_number);
  if (unit != unit_ids_.end()) {
    ask_state(id, unit->second);
  } else {
    ask_unit(id);
  }
  return std::nullopt;
}

void IonInterlocks::ask_unit(std::uint64_t id) {
  const InterlockQuery& q = asks_.at(id).query;
  const bool with_part = !q.part_number.empty();
  GraphqlRequest req;
  req.document =
      "query InterlockUnit(" + unit_lookup_vars(with_part) + ") { " + unit_lookup_field(with_part) + " }";
  req.variables = json::object();
  json::put(req.variables.get(), "serial", q.serial);
  if (with_part) {
    json::put(req.variables.get(), "partNumber", q.part_number);
  }
  req.operation_name = "InterlockUnit";
  ++sent_;
  std::weak_ptr<bool> alive = alive_;
  client_.submit(std::move(req), [this, alive, id](GraphqlResponse r) {
    if (alive.expired() || asks_.count(id) == 0) {
      return;  // gone, or timed out already
    }
    if (r.outcome != GraphqlOutcome::ok) {
      InterlockAnswer a;
      a.detail = std::string("ION unreachable (") + to_string(r.outcome) + ")";
      answer(id, a);
      return;
    }
    const InterlockQuery& asked = asks_.at(id).query;
    std::optional<std::string> part;
    if (!asked.part_number.empty()) {
      part = asked.part_number;
    }
    auto unit = pick_unit(r.data.get(), asked.serial, part);
    if (!unit.ok()) {
      if (unit.error().code != hal::Errc::not_found) {
        InterlockAnswer a;
        a.verdict = InterlockAnswer::Verdict::fail;
        a.condition = "unit";
        a.detail = unit.error().what;
        answer(id, a);
        return;
      }
      // Unknown at ION: nothing open, nothing held, and at no location.
      Json empty = json::object();
      InterlockAnswer a = evaluate(asked.conditions, empty.get());
      if (a.verdict == InterlockAnswer::Verdict::fail) {
        a.detail = "unit " + asked.serial + " is not known at ION";
      }
      answer(id, a);
      return;
    }
    remember_unit(asked.serial + "\n" + asked.part_number, unit->id);
    ask_state(id, unit->id);
  });
}

void IonInterlocks::ask_state(std::uint64_t id, const std::string& unit_id) {
  GraphqlRequest req;
  req.document = kStateDoc;
  req.variables = json::object();
  json::put_id(req.variables.get(), "unit", unit_id);
  req.operation_name = "InterlockState";
  ++sent_;
  std::weak_ptr<bool> alive = alive_;
  client_.submit(std::move(req), [this, alive, id](GraphqlResponse r) {
    if (alive.expired() || asks_.count(id) == 0) {
      return;
    }
    InterlockAnswer a;
    if (r.outcome != GraphqlOutcome::ok) {
      a.detail = std::string("ION unreachable (") + to_string(r.outcome) + ")";
    } else if (!cJSON_IsObject(json::get(r.data.get(), "unit"))) {
      // The remembered id no longer names a unit (deleted at ION): forget it, look once more.
      Ask& ask = asks_.at(id);
      unit_ids_.erase(ask.query.serial + "\n" + ask.query.part_number);
      if (!ask.relooked) {
        ask.relooked = true;
        ask_unit(id);
        return;
      }
      a.detail = "ION returned no unit " + ask.query.serial;
    } else {
      a = evaluate(asks_.at(id).query.conditions, r.data.get());
    }
    answer(id, a);
  });
}

InterlockAnswer IonInterlocks::evaluate(const std::vector<Condition>& conditions, const cJSON* data) {
  InterlockAnswer a;
  a.verdict = InterlockAnswer::Verdict::pass;
  for (const Condition& c : conditions) {
    const cJSON* e = nullptr;
    switch (c.kind) {
      case Condition::Kind::no_open_issues:
        cJSON_ArrayForEach(e, json::at(data, {"issues", "edges"})) {
          const cJSON* n = json::get(e, "node");
          if (issue_is_open(json::str(n, "status").value_or(""))) {
            a.verdict = InterlockAnswer::Verdict::fail;
            a.condition = to_string(c);
            a.detail = describe("issue", n);
            return a;
          }
        }
        break;
      case Condition::Kind::run_not_held:
        cJSON_ArrayForEach(e, json::at(data, {"runs", "edges"})) {
          const cJSON* n = json::get(e, "node");
          if (run_is_held(json::str(n, "status").value_or(""))) {
            a.verdict = InterlockAnswer::Verdict::fail;
            a.condition = to_string(c);
            a.detail = describe("run", n);
            return a;
          }
        }
        break;
      case Condition::Kind::at_location: {
        auto name = json::str(json::at(data, {"unit", "location"}), "name");
        if (!name || strcasecmp(name->c_str(), c.arg.c_str()) != 0) {
          a.verdict = InterlockAnswer::Verdict::fail;
          a.condition = to_string(c);
          a.detail = "unit is at " + (name ? *name : std::string("no location")) + ", not " + c.arg;
          return a;
        }
        break;
      }
    }
  }
  a.detail = "ION: every condition holds";
  return a;
}

void IonInterlocks::answer(std::uint64_t id, InterlockAnswer a) {
  auto it = asks_.find(id);
  if (it == asks_.end()) {
    return;
  }
  Ask ask = std::move(it->second);
  asks_.erase(it);
  if (a.verdict == InterlockAnswer::Verdict::pass && options_.cache.count() > 0) {
    if (passed_.size() + ask.query.conditions.size() > options_.max_cached) {
      passed_.clear();  // rare (hundreds of units within the cache time); simply ask again
    }
    for (const auto& c : ask.query.conditions) {
      passed_[key(ask.query, c)] = clock_.mono() + options_.cache;
    }
  } else {
    // A failed condition is asked afresh next time; so are the others of this unit.
    for (const auto& c : ask.query.conditions) {
      passed_.erase(key(ask.query, c));
    }
  }
  if (ask.done) {
    ask.done(std::move(a));
  }
}

void IonInterlocks::remember_unit(const std::string& serial, const std::string& unit_id) {
  if (unit_ids_.size() >= options_.max_cached) {
    unit_ids_.erase(unit_ids_.begin());
  }
  unit_ids_[serial] = unit_id;
}

std::optional<IonInterlocks::MonoTime> IonInterlocks::next_deadline() const {
  std::optional<MonoTime> first;
  for (const auto& [id, ask] : asks_) {
    if (!first || ask.deadline < *first) {
      first = ask.deadline;
    }
  }
  return first;
}

void IonInterlocks::on_deadline(MonoTime now) {
  std::vector<std::uint64_t> late;
  for (const auto& [id, ask] : asks_) {
    if (ask.deadline <= now) {
      late.push_back(id);
    }
  }
  for (auto id : late) {
    InterlockAnswer a;
    a.detail = "ION did not answer within " + std::to_string(options_.timeout.count()) + " ms";
    answer(id, a);
  }
}

}  // namespace agent
