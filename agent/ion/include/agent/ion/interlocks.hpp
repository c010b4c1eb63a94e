// SPDX-License-Identifier: Apache-2.0
// IonInterlocks: answers a rule's `require` (agent/intent/interlock.hpp) from ION without ever
// blocking the loop. One aliased query reads everything the conditions need for a unit:
//   unit:   partInventory(id)                          { location { id name } }
//   issues: issues(filters: {partInventoryId: {eq}})   { id title status }
//   runs:   runs(filters: {partInventoryId: {eq}})     { id title status }
// ION's issue and run filters take the unit's id, not its serial, so the first check of a
// serial looks the unit up first (the usual `units` lookup) and remembers its id; later
// checks of that serial are the one query. Both round trips share one short deadline
// (`timeout`); past it the answer is Verdict::unknown ("ION did not answer within N ms") and
// the rule's "offline" decides. A late answer is dropped.
//
// Open issue = status not CLOSED/RESOLVED/CANCELED/CANCELLED/VOIDED/DONE (ION's issue status is
// a string whose values the API documents nowhere; agent/ion/README.md). Held run = status
// HOLD, FAILED or REDLINE (any run of the unit). A unit ION does not know has no issues and no
// runs, and is at no location.
//
// Passed conditions are kept per unit for `cache`, so a scan-then-press asks once (the press's
// conditions were all checked by the scan). Failed and unknown answers are never kept: after
// the issue is closed the next scan sees it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "agent/graphql/graphql.hpp"
#include "agent/intent/interlock.hpp"
#include "hal/clock.hpp"

namespace agent {

struct InterlockOptions {
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds cache{30000};
  std::size_t max_cached = 256;  // units remembered (ids and passes); oldest dropped beyond
};

class IonInterlocks final : public InterlockChecker {
 public:
  using MonoTime = hal::Clock::MonoTime;
  IonInterlocks(GraphqlClient& client, const hal::Clock& clock, InterlockOptions options = {});
  ~IonInterlocks() override;
  IonInterlocks(const IonInterlocks&) = delete;
  IonInterlocks& operator=(const IonInterlocks&) = delete;

  std::optional<InterlockAnswer> check(const InterlockQuery& query, Done done) override;
  void set_options(InterlockOptions options) { options_ = options; }

  // For the owner's loop: the earliest pending deadline, and what to do when it passes.
  std::optional<MonoTime> next_deadline() const;
  void on_deadline(MonoTime now);

  std::uint64_t queries_sent() const { return sent_; }  // GraphQL requests (tests, metrics)
  std::size_t pending() const { return asks_.size(); }

  // Pure: the verdict for `conditions` from the batched query's data (tests call it directly).
  static InterlockAnswer evaluate(const std::vector<Condition>& conditions, const cJSON* data);

 private:
  struct Ask {
    InterlockQuery query;
    Done done;
    MonoTime deadline;
    bool relooked = false;  // the unit was looked up again after its id went stale
  };
  void ask_unit(std::uint64_t id);
  void ask_state(std::uint64_t id, const std::string& unit_id);
  void answer(std::uint64_t id, InterlockAnswer a);
  void remember_unit(const std::string& serial, const std::string& unit_id);
  static std::string key(const InterlockQuery& q, const Condition& c);

  GraphqlClient& client_;
  const hal::Clock& clock_;
  InterlockOptions options_;
  std::map<std::uint64_t, Ask> asks_;
  std::uint64_t next_id_ = 0;
  std::uint64_t sent_ = 0;
  std::map<std::string, std::string> unit_ids_;  // "serial\npart" -> ION id
  std::map<std::string, MonoTime> passed_;       // key(unit, condition) -> passed until
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace agent
