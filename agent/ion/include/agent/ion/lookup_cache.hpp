// SPDX-License-Identifier: Apache-2.0
// LookupCache: what the last operations learnt at ION about a unit and its open run, so the
// next intent of the same scan does not ask again. A scan's unit.ensure, run.ensure and
// step.status are applied in 5 round trips instead of 9: run.ensure reuses the unit that
// unit.ensure found or created, step.status the run (with its steps and their `_etag`s) that
// run.ensure created or looked up (agent/ion/README.md §6).
//
// A cached answer may be stale (someone changed the unit or the run at ION since), so the
// operations use it only where staleness shows itself before it can do harm:
//  - a mutation built from a cached `_etag` is refused by ION as a conflict if the object
//    changed; the operation then forgets the subject and re-reads from ION;
//  - an operation that would finish without acting because of cached data ("the step already
//    has that status"), or that ION refuses after it used cached data (a unit deleted since),
//    re-reads from ION and decides again; a rejection is only ever made on fresh data;
//  - a step.status that completes "the current step" pins the step from a fresh read only
//    (the pin decides which step a retry completes).
// Entries expire (units after `unit_ttl`, runs after `run_ttl`) and the cache holds at most
// `max_entries` of each. Single-threaded, like the dispatcher that owns it.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "agent/common/json.hpp"
#include "hal/clock.hpp"

namespace agent {

// A part inventory (a serialized unit) as the lookups read it.
struct UnitRef {
  std::string id;
  std::string etag;
  std::string serial;
  std::string location_id;
  std::string part_id;
  std::string part_number;
};

struct LookupCacheOptions {
  std::chrono::milliseconds unit_ttl{60'000};
  std::chrono::milliseconds run_ttl{10'000};
  std::size_t max_entries = 256;
};

class LookupCache {
 public:
  explicit LookupCache(const hal::Clock& clock, LookupCacheOptions options = {});

  // The unit with this serial (and part number, compared without case; nullopt = the only
  // unit with the serial), if known and fresh.
  std::optional<UnitRef> unit(const std::string& serial, const std::optional<std::string>& part_number) const;
  void put_unit(const std::optional<std::string>& part_number, const UnitRef& unit);

  // The open run of a procedure for a unit, with its steps, if known and fresh (a copy).
  Json run(const std::string& unit_id, const std::string& procedure_id) const;
  void put_run(const std::string& serial, const std::string& unit_id, const std::string& procedure_id,
               const cJSON* run);
  // A mutation answered with a step's new status and `_etag`: the cached run follows. An
  // empty etag (a change whose new etag is unknown) drops the runs that hold the step.
  void step_changed(const std::string& step_id, const std::string& status, const std::string& etag);

  // Forgets the unit(s) with this serial and their runs.
  void forget(const std::string& serial);
  void clear();
  std::size_t units() const { return units_.size(); }
  std::size_t runs() const { return runs_.size(); }

 private:
  struct UnitEntry {
    UnitRef unit;
    hal::Clock::MonoTime at;
  };
  struct RunEntry {
    std::string serial;
    Json run;
    hal::Clock::MonoTime at;
  };
  template <typename Map>
  void make_room(Map& map, std::chrono::milliseconds ttl);

  const hal::Clock& clock_;
  LookupCacheOptions opt_;
  std::map<std::string, UnitEntry> units_;  // serial \x1f part (lower case) or serial \x1f
  std::map<std::string, RunEntry> runs_;    // unit id \x1f procedure id
};

}  // namespace agent
