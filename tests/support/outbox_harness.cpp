// SPDX-License-Identifier: Apache-2.0
#include "outbox_harness.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <vector>

namespace outbox_test {
namespace {

constexpr const char* kDemoClientId = "ion-agent-demo";
constexpr const char* kDemoClientSecret = "demo-secret-0f3c9a1e7b2d4c58";  // public test fixture
constexpr long kStep1 = 1201;
constexpr long kStep2 = 1202;
constexpr long kKitA = 2;
constexpr long kFinishedGoods = 5;

bool issue_unit(int unit) {
  return unit % 5 == 0;
}

const cJSON* get(const cJSON* o, const char* k) {
  return o != nullptr && cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : nullptr;
}

// Ids arrive as integers (state) or strings (our variables): compare as integers.
long id_of(const cJSON* v) {
  if (cJSON_IsNumber(v)) {
    return static_cast<long>(v->valuedouble);
  }
  if (cJSON_IsString(v)) {
    return std::strtol(v->valuestring, nullptr, 10);
  }
  return -1;
}

std::string text_of(const cJSON* v) {
  return cJSON_IsString(v) ? v->valuestring : "";
}

std::map<long, const cJSON*> by_id(const cJSON* table) {
  std::map<long, const cJSON*> m;
  const cJSON* r = nullptr;
  cJSON_ArrayForEach(r, table) {
    m[id_of(get(r, "id"))] = r;
  }
  return m;
}

struct Checker {
  const std::string prefix;
  const int n;
  std::string problems;
  int reported = 0;

  void bad(const std::string& what) {
    if (++reported <= 12) {
      problems += what + "\n";
    }
  }
  int length(int unit) const { return std::min(kRecipeLength, n - unit * kRecipeLength); }
};

struct Model {
  std::map<long, const cJSON*> runs, steps, fields;
  std::map<long, int> unit_of_inv;  // part inventory id -> unit
  std::map<int, std::vector<long>> invs_of_unit;
};

Model index_state(const cJSON* state, Checker& c) {
  Model m;
  m.runs = by_id(get(state, "runs"));
  m.steps = by_id(get(state, "run_steps"));
  m.fields = by_id(get(state, "run_fields"));
  const cJSON* r = nullptr;
  cJSON_ArrayForEach(r, get(state, "part_inventories")) {
    std::string sn = text_of(get(r, "serialNumber"));
    if (sn.rfind(c.prefix + "-", 0) != 0) {
      continue;
    }
    int unit = std::atoi(sn.c_str() + c.prefix.size() + 1);
    m.unit_of_inv[id_of(get(r, "id"))] = unit;
    m.invs_of_unit[unit].push_back(id_of(get(r, "id")));
  }
  return m;
}

const cJSON* field_named(const Model& m, const cJSON* step, const char* name) {
  const cJSON* f = nullptr;
  cJSON_ArrayForEach(f, get(step, "fields")) {
    auto it = m.fields.find(id_of(f));
    if (it != m.fields.end() && text_of(get(it->second, "name")) == name) {
      return it->second;
    }
  }
  return nullptr;
}

void check_run(const Model& m, const cJSON* run, int unit, int len, Checker& c) {
  const std::string who = recipe_serial(c.prefix, unit);
  const cJSON* s = nullptr;
  cJSON_ArrayForEach(s, get(run, "steps")) {
    const cJSON* step = m.steps.at(id_of(s));
    const long tmpl = id_of(get(step, "procedureStepId"));
    const std::string status = text_of(get(step, "status"));
    std::string want = "TODO";
    if (tmpl == kStep1) {
      want = len >= 6 ? "COMPLETE" : len >= 4 ? "IN_PROGRESS" : "TODO";
      const cJSON* notes = field_named(m, step, "Notes");
      const cJSON* torque = field_named(m, step, "Torque checked");
      const bool filled = len >= 5;
      if ((filled && text_of(get(notes, "value")) != "unit " + std::to_string(unit)) ||
          (!filled && !cJSON_IsNull(get(notes, "value")))) {
        c.bad(who + ": Notes = " + (cJSON_PrintUnformatted(get(notes, "value")) ?: "?"));
      }
      if (filled != cJSON_IsTrue(get(torque, "value"))) {
        c.bad(who + ": Torque checked wrong");
      }
    } else if (tmpl == kStep2) {
      want = len >= 9 ? "COMPLETE" : len >= 7 ? "IN_PROGRESS" : "TODO";
      const cJSON* visual = field_named(m, step, "Visual inspection passed");
      if ((len >= 8) != cJSON_IsTrue(get(visual, "value"))) {
        c.bad(who + ": Visual inspection passed wrong");
      }
    }
    if (status != want) {
      c.bad(who + ": step " + std::to_string(tmpl) + " is " + status + ", expected " + want);
    }
  }
  if (len >= 9 && text_of(get(run, "status")) != "COMPLETE") {
    c.bad(who + ": run status " + text_of(get(run, "status")));
  }
}

void check_units(const cJSON* state, const Model& m, Checker& c) {
  const int units = (c.n + kRecipeLength - 1) / kRecipeLength;
  if (static_cast<int>(m.invs_of_unit.size()) != units) {
    c.bad("expected " + std::to_string(units) + " units, ION has " + std::to_string(m.invs_of_unit.size()));
  }
  std::map<long, std::vector<const cJSON*>> runs_of_inv;
  for (const auto& r : m.runs) {
    runs_of_inv[id_of(get(r.second, "partInventoryId"))].push_back(r.second);
  }
  std::map<long, int> issues_of_inv;
  const cJSON* is = nullptr;
  cJSON_ArrayForEach(is, get(state, "issues")) {
    ++issues_of_inv[id_of(get(is, "partInventoryId"))];
  }
  for (const auto& [unit, invs] : m.invs_of_unit) {
    const std::string who = recipe_serial(c.prefix, unit);
    const int len = c.length(unit);
    if (unit >= units || invs.size() != 1) {
      c.bad(who + ": " + std::to_string(invs.size()) + " part inventories (unit beyond the queue?)");
      continue;
    }
    const long inv = invs.front();
    long want_loc = len >= 10 && !issue_unit(unit) ? kFinishedGoods : len >= 2 ? kKitA : 1;
    const cJSON* rec = nullptr;
    cJSON_ArrayForEach(rec, get(state, "part_inventories")) {
      if (id_of(get(rec, "id")) == inv && id_of(get(rec, "locationId")) != want_loc) {
        c.bad(who + ": location " + std::to_string(id_of(get(rec, "locationId"))) + ", expected " +
              std::to_string(want_loc));
      }
    }
    const auto& runs = runs_of_inv[inv];
    if (runs.size() != (len >= 3 ? 1u : 0u)) {
      c.bad(who + ": " + std::to_string(runs.size()) + " runs");
    } else if (!runs.empty()) {
      check_run(m, runs.front(), unit, len, c);
    }
    const int want_issues = len >= 10 && issue_unit(unit) ? 1 : 0;
    if (issues_of_inv[inv] != want_issues) {
      c.bad(who + ": " + std::to_string(issues_of_inv[inv]) + " issues");
    }
  }
}

// Which recipe step (unit, k) an applied mutation belongs to; unit -1 = not ours.
std::pair<int, int> classify(const Model& m, const cJSON* e) {
  const std::string root = text_of(cJSON_GetArrayItem(get(e, "root_fields"), 0));
  const cJSON* in = get(get(e, "variables"), "input");
  auto unit_of = [&m](long inv) {
    auto it = m.unit_of_inv.find(inv);
    return it == m.unit_of_inv.end() ? -1 : it->second;
  };
  auto unit_of_step = [&](long step_id, long* tmpl) {
    auto st = m.steps.find(step_id);
    if (st == m.steps.end()) {
      return -1;
    }
    *tmpl = id_of(get(st->second, "procedureStepId"));
    auto run = m.runs.find(id_of(get(st->second, "runId")));
    return run == m.runs.end() ? -1 : unit_of(id_of(get(run->second, "partInventoryId")));
  };
  long tmpl = 0;
  if (root == "createPartInventory") {
    return {-2, 0};  // not in the state index yet by id: the caller resolves it by serial
  }
  if (root == "updatePartInventory") {
    return {unit_of(id_of(get(in, "id"))), id_of(get(in, "locationId")) == kKitA ? 1 : 9};
  }
  if (root == "createRun") {
    return {unit_of(id_of(get(in, "partInventoryId"))), 2};
  }
  if (root == "createIssue") {
    return {unit_of(id_of(get(in, "partInventoryId"))), 9};
  }
  if (root == "updateRunStep") {
    int unit = unit_of_step(id_of(get(in, "id")), &tmpl);
    bool complete = text_of(get(in, "status")) == "COMPLETE";
    return {unit, tmpl == kStep1 ? (complete ? 5 : 3) : (complete ? 8 : 6)};
  }
  if (root == "updateRunStepFieldValue") {
    auto f = m.fields.find(id_of(get(in, "id")));
    int unit = f == m.fields.end() ? -1 : unit_of_step(id_of(get(f->second, "runStepId")), &tmpl);
    return {unit, tmpl == kStep1 ? 4 : 7};
  }
  return {-1, 0};
}

void check_applied(const Model& m, Checker& c, const cJSON* e, std::map<int, std::vector<int>>& seen,
                   std::map<std::pair<int, long>, int>& per_field);
void finish_log_check(Checker& c, std::map<int, std::vector<int>>& seen,
                      const std::map<std::pair<int, long>, int>& per_field);

void check_log(const cJSON* log, const Model& m, Checker& c) {
  std::map<int, std::vector<int>> seen;           // unit -> k of each applied mutation, in order
  std::map<std::pair<int, long>, int> per_field;  // (unit, field id) -> writes
  const cJSON* e = nullptr;
  std::vector<agent::Json> members;  // a batched entry: one entry per applied alias
  cJSON_ArrayForEach(e, get(log, "entries")) {
    if (!cJSON_IsTrue(get(e, "applied"))) {
      continue;
    }
    members.clear();
    const cJSON* keys = get(e, "root_keys");
    const cJSON* applied = get(e, "applied_keys");
    for (int i = 0; i < cJSON_GetArraySize(keys); ++i) {
      const std::string key = text_of(cJSON_GetArrayItem(keys, i));
      const std::string field = text_of(cJSON_GetArrayItem(get(e, "root_fields"), i));
      bool took = false;
      for (int j = 0; j < cJSON_GetArraySize(applied); ++j) {
        took = took || text_of(cJSON_GetArrayItem(applied, j)) == key;
      }
      if (!took || key.size() < field.size()) {
        continue;
      }
      // The batch aliases a member's field `b<n>_<field>` and its variables `$b<n>_<name>`.
      const std::string prefix = key.substr(0, key.size() - field.size());
      agent::Json one(cJSON_CreateObject());
      cJSON* fields = cJSON_AddArrayToObject(one.get(), "root_fields");
      cJSON_AddItemToArray(fields, cJSON_CreateString(field.c_str()));
      cJSON* vars = cJSON_AddObjectToObject(one.get(), "variables");
      const cJSON* in = get(get(e, "variables"), (prefix + "input").c_str());
      cJSON_AddItemToObject(vars, "input", in != nullptr ? cJSON_Duplicate(in, 1) : cJSON_CreateNull());
      members.push_back(std::move(one));
    }
    if (keys == nullptr) {
      members.emplace_back(cJSON_Duplicate(e, 1));  // a log without aliases information
    }
    for (const auto& member : members) {
      check_applied(m, c, member.get(), seen, per_field);
    }
  }
  finish_log_check(c, seen, per_field);
}

void check_applied(const Model& m, Checker& c, const cJSON* e, std::map<int, std::vector<int>>& seen,
                   std::map<std::pair<int, long>, int>& per_field) {
  auto [unit, k] = classify(m, e);
  if (unit == -2) {
    std::string sn = text_of(get(get(get(e, "variables"), "input"), "serialNumber"));
    if (sn.rfind(c.prefix + "-", 0) != 0) {
      return;
    }
    unit = std::atoi(sn.c_str() + c.prefix.size() + 1);
    k = 0;
  }
  if (unit < 0) {
    return;
  }
  seen[unit].push_back(k);
  if (k == 4 || k == 7) {
    ++per_field[{unit, id_of(get(get(get(e, "variables"), "input"), "id"))}];
  }
}

void finish_log_check(Checker& c, std::map<int, std::vector<int>>& seen,
                      const std::map<std::pair<int, long>, int>& per_field) {
  for (const auto& [key, count] : per_field) {
    if (count != 1) {
      c.bad(recipe_serial(c.prefix, key.first) + ": field " + std::to_string(key.second) + " written " +
            std::to_string(count) + " times");
    }
  }
  const int units = (c.n + kRecipeLength - 1) / kRecipeLength;
  for (int u = 0; u < units; ++u) {
    const std::vector<int>& ks = seen[u];
    const int len = c.length(u);
    for (int k = 0; k < kRecipeLength; ++k) {
      const int want = k >= len ? 0 : k == 4 ? 2 : 1;
      const int got = static_cast<int>(std::count(ks.begin(), ks.end(), k));
      if (got != want) {
        c.bad(recipe_serial(c.prefix, u) + ": recipe step " + std::to_string(k) + " applied " +
              std::to_string(got) + " times, expected " + std::to_string(want));
      }
    }
    if (!std::is_sorted(ks.begin(), ks.end())) {
      c.bad(recipe_serial(c.prefix, u) + ": mutations applied out of order");
    }
  }
}

}  // namespace

std::string recipe_serial(const std::string& prefix, int unit) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06d", unit);
  return prefix + "-" + buf;
}

agent::NewIntent recipe_intent(const std::string& prefix, int index, const hal::Clock& clock) {
  const int unit = index / kRecipeLength;
  const std::string sn = recipe_serial(prefix, unit);
  const std::string head = R"({"serial":")" + sn + R"(")";
  const std::string run = head + R"(,"procedureId":"12")";
  agent::NewIntent n;
  n.subject = sn;
  n.at.wall_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock.wall().time_since_epoch()).count();
  n.at.since_boot_ns = clock.since_boot().count();
  n.at.boot_id = "harness";
  n.at.wall_synced = true;
  switch (index % kRecipeLength) {
    case 0:
      n.kind = "unit.ensure";
      n.inputs_json = head + R"(,"partNumber":"ASM-100","location":"RECEIVING"})";
      break;
    case 1:
      n.kind = "unit.move";
      n.inputs_json = head + R"(,"location":"KIT-A"})";
      break;
    case 2:
      n.kind = "run.ensure";
      n.inputs_json = run + "}";
      break;
    case 3:
    case 6:
      n.kind = "step.status";
      n.inputs_json = run + R"(,"status":"IN_PROGRESS"})";
      break;
    case 5:
    case 8:
      n.kind = "step.status";
      n.inputs_json = run + R"(,"status":"COMPLETE"})";
      break;
    case 4:
      n.kind = "step.fields";
      n.inputs_json =
          run + R"(,"fields":{"Notes":"unit )" + std::to_string(unit) + R"(","Torque checked":true}})";
      break;
    case 7:
      n.kind = "step.fields";
      n.inputs_json = run + R"(,"fields":{"Visual inspection passed":"pass"}})";
      break;
    default:
      if (issue_unit(unit)) {
        n.kind = "issue.create";
        n.inputs_json = head + R"(,"text":"Cosmetic scratch on unit )" + std::to_string(unit) + R"("})";
      } else {
        n.kind = "unit.move";
        n.inputs_json = head + R"(,"location":"FINISHED-GOODS"})";
      }
      break;
  }
  return n;
}

hal::Result<std::unique_ptr<agent::CurlGraphqlClient>> make_sim_client(const SimEndpoint& sim,
                                                                       const hal::Clock& clock) {
  agent::GraphqlClientOptions o;
  o.api_url = sim.api_url;
  o.token_url = sim.token_url;
  o.client_id = kDemoClientId;
  if (!o.client_secret.assign(kDemoClientSecret)) {
    return hal::Error(hal::Errc::internal, "harness: secret too long");
  }
  o.http.ca_file = sim.ca;
  o.http.proxy = "direct";
  o.http.total_timeout = std::chrono::seconds(10);
  o.max_idle_wait = std::chrono::milliseconds(200);
  return agent::CurlGraphqlClient::create(std::move(o), clock);
}

bool drain(agent::Dispatcher& d, agent::CurlGraphqlClient& c, const hal::Clock& clock,
           std::chrono::milliseconds limit, const std::function<void()>& between) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::vector<curl_waitfd> none;
  for (;;) {
    if (between) {
      between();
    }
    c.perform();
    d.poll(clock.mono());
    if (d.idle() && c.in_flight() == 0 && !between) {
      return true;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return d.idle();
    }
    auto due = std::chrono::duration_cast<std::chrono::milliseconds>(d.next_due() - clock.mono());
    auto wait = std::clamp(due, std::chrono::milliseconds(0), std::chrono::milliseconds(200));
    if (between) {
      wait = std::min(wait, std::chrono::milliseconds(2));
    }
    (void)c.wait(none, wait);
  }
}

std::string check_recipe_effect(const cJSON* state, const cJSON* log, const std::string& prefix, int n) {
  Checker c{prefix, n, {}, 0};
  if (state == nullptr || log == nullptr) {
    return "no simulator state or log";
  }
  Model m = index_state(state, c);
  check_units(state, m, c);
  check_log(log, m, c);
  if (c.reported > 12) {
    c.problems += "... and " + std::to_string(c.reported - 12) + " more\n";
  }
  return c.problems;
}

}  // namespace outbox_test
