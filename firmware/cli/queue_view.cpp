// SPDX-License-Identifier: Apache-2.0
#include "queue_view.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace firmware {

hal::Result<std::unique_ptr<agent::Outbox>> open_existing_outbox(const std::string& state_dir,
                                                                 const hal::Clock& clock,
                                                                 agent::Outbox::Mode mode) {
  const std::string path = agent::outbox_path(state_dir);
  if (::access(path.c_str(), F_OK) != 0) {
    return hal::Error(hal::Errc::not_found,
                      "no outbox at " + path + " (the daemon creates it when it first starts)");
  }
  return agent::Outbox::open(path, {}, clock, mode);
}

agent::Json intent_json(const agent::IntentRecord& r) {
  agent::Json o(cJSON_CreateObject());
  cJSON* p = o.get();
  cJSON_AddNumberToObject(p, "seq", static_cast<double>(r.seq));
  cJSON_AddStringToObject(p, "uuid", r.uuid.c_str());
  cJSON_AddStringToObject(p, "kind", r.kind.c_str());
  cJSON_AddStringToObject(p, "state", agent::to_string(r.state));
  cJSON_AddStringToObject(p, "subject", r.subject.c_str());
  cJSON* inputs = cJSON_Parse(r.inputs_json.c_str());
  cJSON_AddItemToObject(p, "inputs", inputs != nullptr ? inputs : cJSON_CreateString(r.inputs_json.c_str()));
  cJSON_AddNumberToObject(p, "attempts", r.attempts);
  cJSON_AddNumberToObject(p, "next_attempt_ms", static_cast<double>(r.next_attempt_ms));
  cJSON_AddStringToObject(p, "last_error", r.last_error.c_str());
  cJSON_AddNumberToObject(p, "accepted_ms", static_cast<double>(r.accepted_ms));
  cJSON_AddNumberToObject(p, "finished_ms", static_cast<double>(r.finished_ms));
  cJSON_AddNumberToObject(p, "event_wall_ms", static_cast<double>(r.at.wall_ms));
  cJSON_AddBoolToObject(p, "event_wall_synced", r.at.wall_synced);
  cJSON_AddStringToObject(p, "event_boot_id", r.at.boot_id.c_str());
  cJSON_AddNumberToObject(p, "event_since_boot_ns", static_cast<double>(r.at.since_boot_ns));
  cJSON_AddStringToObject(p, "failed_dependency", r.failed_dep.c_str());
  return o;
}

void print_json(const cJSON* doc) {
  agent::JsonText t(cJSON_Print(doc));
  std::printf("%s\n", t ? t.get() : "null");
}

void print_intent(const agent::IntentRecord& r) {
  agent::Json in(cJSON_Parse(r.inputs_json.c_str()));
  agent::JsonText pretty(in ? cJSON_Print(in.get()) : nullptr);
  const std::int64_t now = wall_now_ms();
  std::printf("intent #%lld  %s\n", static_cast<long long>(r.seq), r.uuid.c_str());
  std::printf("  kind:        %s\n", r.kind.c_str());
  std::printf("  state:       %s\n", agent::to_string(r.state));
  std::printf("  subject:     %s\n", r.subject.empty() ? "(none)" : r.subject.c_str());
  std::printf("  event time:  %s%s\n", utc_time(r.at.wall_ms).c_str(),
              r.at.wall_synced ? "" : " (board clock was not synchronised)");
  std::printf("  accepted:    %s (%s ago)\n", utc_time(r.accepted_ms).c_str(),
              human_age(now - r.accepted_ms).c_str());
  std::printf("  attempts:    %d\n", r.attempts);
  if (r.state == agent::IntentState::pending && r.next_attempt_ms > now) {
    std::printf("  next try:    in %s\n", human_age(r.next_attempt_ms - now).c_str());
  }
  if (r.finished_ms != 0) {
    std::printf("  finished:    %s\n", utc_time(r.finished_ms).c_str());
  }
  if (!r.last_error.empty()) {
    std::printf("  last error:  %s\n", r.last_error.c_str());
  }
  if (!r.failed_dep.empty()) {
    std::printf("  died with:   %s\n", r.failed_dep.c_str());
  }
  std::printf("  inputs:      %s\n", pretty ? pretty.get() : r.inputs_json.c_str());
}

std::int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string human_age(std::int64_t ms) {
  if (ms < 0) {
    ms = 0;
  }
  std::int64_t s = ms / 1000;
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s % 86400 / 3600));
  }
  return buf;
}

std::string utc_time(std::int64_t wall_ms) {
  std::time_t t = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string one_line(const std::string& text, std::size_t max) {
  std::string out;
  for (char c : text) {
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  if (out.size() > max) {
    out = out.substr(0, max - 3) + "...";
  }
  return out;
}

}  // namespace firmware
