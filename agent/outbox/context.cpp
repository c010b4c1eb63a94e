// SPDX-License-Identifier: Apache-2.0
// The station context in the outbox: meta rows 'context' (JSON text) and 'context_saved_ms',
// written in the transaction of the intents that set it (Outbox::append_impl). No schema
// change: the meta table has held key/value rows since v1.
#include "agent/outbox/outbox.hpp"
#include "agent/outbox/statement.hpp"

namespace agent {

hal::Result<std::vector<std::string>> Outbox::append_with_context(const std::vector<NewIntent>& intents,
                                                                  const std::string& context_json) {
  return append_impl(intents, &context_json);
}

hal::Status Outbox::write_context(const std::string& context_json) {
  ION_TRY(set_meta("context", context_json), "save context");
  return set_meta("context_saved_ms", std::to_string(now_ms()));
}

hal::Result<std::optional<Outbox::SavedContext>> Outbox::saved_context() {
  auto s = SqlStatement::prepare(db_.get(),
                                 "SELECT key, value FROM meta WHERE key IN ('context', 'context_saved_ms')");
  if (!s.ok()) {
    return std::move(s).error().context("outbox: saved context");
  }
  std::optional<SavedContext> out;
  for (;;) {
    auto row = s->step("read context");
    if (!row.ok()) {
      return std::move(row).error().context("outbox: saved context");
    }
    if (!*row) {
      break;
    }
    if (!out) {
      out.emplace();
    }
    if (s->text_at(0) == "context") {
      out->json = s->text_at(1);
    } else {
      out->saved_ms = s->int_at(1);
    }
  }
  return out;
}

}  // namespace agent
