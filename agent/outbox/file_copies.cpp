// SPDX-License-Identifier: Apache-2.0
// Outbox: the file.attach copies an append makes and the orphans an open removes (the copying
// itself is files.cpp).
#include <algorithm>
#include <optional>
#include <set>

#include "agent/common/json.hpp"
#include "agent/intent/kinds.hpp"
#include "agent/outbox/outbox.hpp"
#include "files.hpp"
#include "hal/log.hpp"

namespace agent {

// A copy whose intent is not undelivered in the database: a crash came between the copy and
// the commit (the station showed no green), or after delivery before the copy was deleted.
hal::Status Outbox::remove_orphan_files() {
  auto rows = query("WHERE state != 2 AND kind = 'file.attach'", {}, 0);
  if (!rows.ok()) {
    return std::move(rows).error().context("file copies");
  }
  std::set<std::string> keep;
  for (const auto& r : *rows) {
    keep.insert(r.uuid);
  }
  if (int n = outbox_files::remove_orphans(files_dir_, keep); n > 0) {
    hal::log::info("outbox", "removed " + std::to_string(n) + " file copies no undelivered intent holds");
  }
  return {};
}

// Copies the file of each file.attach intent (inside the append's open transaction, so the
// bound is checked against what is committed) and writes copy/sha256/size into its inputs.
// `copied` names what was written, for the caller to remove if the append fails later.
hal::Status Outbox::copy_files(std::vector<NewIntent>& intents, const std::vector<std::string>& uuids,
                               std::vector<std::string>& copied, std::size_t need) {
  std::vector<std::optional<outbox_files::Source>> sources(intents.size());
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < intents.size(); ++i) {
    const IntentKind* kind = find_intent_kind(intents[i].kind);
    if (kind == nullptr || !kind->file_from_event) {
      continue;
    }
    Json in(cJSON_Parse(intents[i].inputs_json.c_str()));
    auto src = json::str(in.get(), "source");
    if (!src) {
      return hal::Error(hal::Errc::parse, intents[i].kind + ": inputs.source: missing");
    }
    auto opened = outbox_files::open_source(*src);
    if (!opened.ok()) {
      return std::move(opened).error().context(intents[i].kind);
    }
    bytes += opened->size;
    sources[i] = std::move(opened).value();
  }
  if (bytes == 0 &&
      std::none_of(sources.begin(), sources.end(), [](const auto& x) { return x.has_value(); })) {
    return make_room(need);
  }
  ION_TRY(make_room(need + bytes), "file copy");
  for (std::size_t i = 0; i < intents.size(); ++i) {
    if (!sources[i]) {
      continue;
    }
    auto c = outbox_files::copy(files_dir_, uuids[i], *sources[i]);
    if (!c.ok()) {
      return std::move(c).error().context(intents[i].kind);
    }
    copied.push_back(uuids[i]);
    Json in(cJSON_Parse(intents[i].inputs_json.c_str()));
    for (const char* k : {"copy", "sha256", "size"}) {
      cJSON_DeleteItemFromObjectCaseSensitive(in.get(), k);
    }
    json::put(in.get(), "copy", c->path);
    json::put(in.get(), "sha256", c->sha256);
    cJSON_AddNumberToObject(in.get(), "size", static_cast<double>(c->size));
    intents[i].inputs_json = json::print(in.get());
  }
  return {};
}

}  // namespace agent
