// SPDX-License-Identifier: Apache-2.0
#include "agent/ion/lookup_cache.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace agent {
namespace {

constexpr char kSep = '\x1f';

std::string unit_key(const std::string& serial, const std::optional<std::string>& part_number) {
  std::string k = serial + kSep;
  if (part_number) {
    k += 'p';
    for (char c : *part_number) {
      k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return k;
}

std::string run_key(const std::string& unit_id, const std::string& procedure_id) {
  return unit_id + kSep + procedure_id;
}

}  // namespace

LookupCache::LookupCache(const hal::Clock& clock, LookupCacheOptions options)
    : clock_(clock), opt_(options) {}

std::optional<UnitRef> LookupCache::unit(const std::string& serial,
                                         const std::optional<std::string>& part_number) const {
  auto it = units_.find(unit_key(serial, part_number));
  if (it == units_.end() || clock_.mono() - it->second.at >= opt_.unit_ttl) {
    return std::nullopt;
  }
  return it->second.unit;
}

void LookupCache::put_unit(const std::optional<std::string>& part_number, const UnitRef& unit) {
  if (unit.id.empty() || unit.serial.empty()) {
    return;
  }
  make_room(units_, opt_.unit_ttl);
  units_[unit_key(unit.serial, part_number)] = UnitEntry{unit, clock_.mono()};
}

Json LookupCache::run(const std::string& unit_id, const std::string& procedure_id) const {
  auto it = runs_.find(run_key(unit_id, procedure_id));
  if (it == runs_.end() || clock_.mono() - it->second.at >= opt_.run_ttl) {
    return Json();
  }
  return Json(cJSON_Duplicate(it->second.run.get(), 1));
}

void LookupCache::put_run(const std::string& serial, const std::string& unit_id,
                          const std::string& procedure_id, const cJSON* run) {
  if (run == nullptr || !cJSON_IsObject(run) || unit_id.empty() || procedure_id.empty() ||
      !cJSON_IsArray(json::get(run, "steps"))) {
    return;  // only a run with its steps saves a later read
  }
  make_room(runs_, opt_.run_ttl);
  runs_[run_key(unit_id, procedure_id)] = RunEntry{serial, Json(cJSON_Duplicate(run, 1)), clock_.mono()};
}

void LookupCache::step_changed(const std::string& step_id, const std::string& status,
                               const std::string& etag) {
  for (auto it = runs_.begin(); it != runs_.end();) {
    cJSON* step = nullptr;
    cJSON* s = nullptr;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(it->second.run.get(), "steps")) {
      if (json::id(s) == step_id) {
        step = s;
        break;
      }
    }
    if (step == nullptr) {
      ++it;
      continue;
    }
    if (etag.empty() || status.empty()) {
      it = runs_.erase(it);
      continue;
    }
    cJSON_ReplaceItemInObjectCaseSensitive(step, "status", cJSON_CreateString(status.c_str()));
    cJSON_ReplaceItemInObjectCaseSensitive(step, "_etag", cJSON_CreateString(etag.c_str()));
    ++it;
  }
}

void LookupCache::forget(const std::string& serial) {
  const std::string prefix = serial + kSep;
  for (auto it = units_.lower_bound(prefix);
       it != units_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    it = units_.erase(it);
  }
  for (auto it = runs_.begin(); it != runs_.end();) {
    it = it->second.serial == serial ? runs_.erase(it) : std::next(it);
  }
}

void LookupCache::clear() {
  units_.clear();
  runs_.clear();
}

// Before an insert: drops expired entries when full, then the oldest while still full.
template <typename Map>
void LookupCache::make_room(Map& map, std::chrono::milliseconds ttl) {
  if (map.size() < opt_.max_entries) {
    return;
  }
  const auto now = clock_.mono();
  for (auto it = map.begin(); it != map.end();) {
    it = now - it->second.at >= ttl ? map.erase(it) : std::next(it);
  }
  while (!map.empty() && map.size() >= opt_.max_entries) {
    map.erase(std::min_element(map.begin(), map.end(),
                               [](const auto& a, const auto& b) { return a.second.at < b.second.at; }));
  }
}

}  // namespace agent
