// SPDX-License-Identifier: Apache-2.0
// issue.create: an NCR on a unit, attached to the run step it came from when the unit has an
// open run of the intent's procedure, looked up by its marker (among the unit's issues only)
// before it is created.
#include <ctime>
#include <string>
#include <vector>

#include "agent/common/json.hpp"
#include "lookup.hpp"

namespace agent {
namespace {

constexpr int kMaxIssuePages = 20;  // of 100 issues, of one unit

std::string iso_time(std::int64_t wall_ms) {
  std::time_t t = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Slate rich text, the shape ION's example code sends: one paragraph per line of ours.
Json slate(const std::vector<std::string>& lines) {
  Json doc(cJSON_CreateArray());
  for (const std::string& line : lines) {
    cJSON* leaf = cJSON_CreateObject();
    cJSON_AddStringToObject(leaf, "text", line.c_str());
    cJSON* para = cJSON_CreateObject();
    cJSON_AddStringToObject(para, "type", "p");
    cJSON* kids = cJSON_AddArrayToObject(para, "children");
    cJSON_AddItemToArray(kids, leaf);
    cJSON* block = cJSON_CreateObject();
    cJSON_AddItemToObject(block, "children", cJSON_CreateArray());
    cJSON_AddItemToArray(cJSON_GetObjectItem(block, "children"), para);
    cJSON_AddItemToArray(doc.get(), block);
  }
  return doc;
}

class IssueCreate final : public UnitRunOp {
 public:
  using UnitRunOp::UnitRunOp;

 private:
  void run() override {
    // No checkpoint means createIssue was never sent: skip the marker search.
    const bool sent = cJSON_IsTrue(json::get(progress(), "sent"));
    if (!sent && input_opt("procedureId")) {
      with_step();
      return;
    }
    find_unit([this, sent](const UnitRef& unit) {
      if (sent) {
        search(unit, {}, 0);
      } else {
        create(unit, "");
      }
    });
  }

  // The run step the issue belongs to: the chosen step of the unit's open run of the
  // procedure (the step input, else the current step). No open run: the unit alone.
  void with_step() {
    find_open_run(true, [this](const UnitRef& unit, Json run) {
      std::string step_id;
      if (run) {
        auto step = choose_step(run.get(), input("step"));
        if (step.ok()) {
          step_id = step->id;
        }
      }
      create(unit, step_id);
    });
  }

  std::string marker() const {
    return "ion-agent ref " + intent().uuid + ", event at " + iso_time(intent().at.wall_ms) +
           (intent().at.wall_synced ? "" : " (board clock not synchronised)");
  }

  void search(const UnitRef& unit, const std::string& after, int pages) {
    Json vars = json::object();
    if (!after.empty()) {
      json::put(vars.get(), "after", after);
    }
    json::put_id(vars.get(), "unit", unit.id);
    send(
        "query FindIssue($unit: ID!, $after: String) {"
        " issues(filters: {partInventoryId: {eq: $unit}}, first: 100, after: $after) {"
        " edges { node { id causeCondition } } pageInfo { hasNextPage endCursor } } }",
        std::move(vars), [this, unit, pages](const cJSON* data) {
          const cJSON* e = nullptr;
          cJSON_ArrayForEach(e, json::at(data, {"issues", "edges"})) {
            const cJSON* cc = json::get(json::get(e, "node"), "causeCondition");
            std::string text = cJSON_IsString(cc) ? cc->valuestring : json::print(cc);
            if (text.find(intent().uuid) != std::string::npos) {
              deliver();  // our earlier attempt reached ION
              return;
            }
          }
          const cJSON* info = json::at(data, {"issues", "pageInfo"});
          auto cursor = json::str(info, "endCursor");
          if (cJSON_IsTrue(json::get(info, "hasNextPage")) && cursor && pages + 1 < kMaxIssuePages) {
            search(unit, *cursor, pages + 1);
            return;
          }
          create(unit, json::str(progress(), "runStepId").value_or(""));
        });
  }

  void create(const UnitRef& unit, const std::string& step_id) {
    if (!cJSON_IsTrue(json::get(progress(), "sent"))) {
      // The step is pinned with the checkpoint: a retry files the issue on the same step.
      Json pin = json::object();
      cJSON_AddTrueToObject(pin.get(), "sent");
      if (!step_id.empty()) {
        json::put_id(pin.get(), "runStepId", step_id);
      }
      if (!checkpoint(std::move(pin))) {
        return;
      }
    }
    Json in = json::object();
    json::put_id(in.get(), "partInventoryId", unit.id);
    if (!step_id.empty()) {
      json::put_id(in.get(), "runStepId", step_id);
    }
    if (input_opt("title")) {
      json::put(in.get(), "title", input_text("title"));
    }
    std::vector<std::string> lines = {input_text("text")};
    if (input_opt("interlock")) {
      lines.push_back("Interlock check " + input_text("interlock"));  // "skipped: <why>"
    }
    lines.push_back(marker());
    cJSON_AddItemToObject(in.get(), "causeCondition", slate(lines).release());
    Json vars = json::object();
    cJSON_AddItemToObject(vars.get(), "input", in.release());
    send(
        "mutation CreateIssue($input: CreateIssueInput!) {"
        " createIssue(input: $input) { issue { id } } }",
        std::move(vars), [this](const cJSON*) { deliver(); });
  }
};

}  // namespace

std::shared_ptr<IonOp> make_issue_create(OpArgs a) {
  return std::make_shared<IssueCreate>(std::move(a));
}

}  // namespace agent
