// SPDX-License-Identifier: Apache-2.0
// ion-agent status: one screen of health. The queue comes from the outbox database (so it
// works with the daemon stopped); live state (link, token, devices) from the daemon's
// <state-dir>/status.json, whose contract is in agent/status_file.hpp. The daemon rewrites that
// file only when something changes (an idle daemon never wakes), so its age says nothing about
// liveness: the daemon runs when the pid in the file is alive and is the same process (start
// time and boot id match; /proc, no privileges needed). Whether a live daemon is hung is
// systemd's watchdog's to decide (WatchdogSec= in the unit), not this command's.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

#include "agent/outbox/outbox.hpp"
#include "agent/status/status_file.hpp"
#include "agent/vault/vault.hpp"
#include "agent/workflow/workflow.hpp"
#include "commands.hpp"
#include "hal/clock.hpp"
#include "hal/text.hpp"
#include "ion_connection.hpp"
#include "process_identity.hpp"
#include "queue_view.hpp"

namespace firmware {
namespace {

constexpr const char* kUsage =
    "Usage: ion-agent status [--state-dir DIR] [--json] [--tcti CONF]\n"
    "\n"
    "Shows the outbox (pending count, oldest pending age, dead letters, last delivery, last\n"
    "error) and, when the daemon runs, its link, token and device state.\n"
    "Exit 0 when the outbox could be read, 1 otherwise.\n"
    "  --state-dir DIR  the daemon's state directory (default " ION_AGENT_DEFAULT_STATE_DIR
    ")\n"
    "  --json           one JSON object instead of text\n"
    "  --tcti CONF      the TPM a tpm2-sealed key is opened with (shown, not contacted)\n";

double num(const cJSON* o, const char* k) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

std::string text(const cJSON* o, const char* k) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : "";
}

// The file was written `age_ms` ago and not since: figures relative to its write time are
// brought up to now (a retry 30 s away then is 10 s away 20 s later).
void age_relative_figures(cJSON* d, std::int64_t age_ms) {
  for (const char* section : {"dispatcher", "link"}) {
    cJSON* o = cJSON_GetObjectItemCaseSensitive(d, section);
    cJSON* retry = cJSON_GetObjectItemCaseSensitive(o, "retry_in_ms");
    if (cJSON_IsNumber(retry)) {
      cJSON_SetNumberHelper(retry, std::max(0.0, retry->valuedouble - static_cast<double>(age_ms)));
    }
  }
  cJSON* token = cJSON_GetObjectItemCaseSensitive(d, "token");
  const cJSON* until = cJSON_GetObjectItemCaseSensitive(token, "valid_until_ms");
  cJSON* expires = cJSON_GetObjectItemCaseSensitive(token, "expires_in_s");
  if (cJSON_IsNumber(until) && cJSON_IsNumber(expires)) {
    const double left = (until->valuedouble - static_cast<double>(wall_now_ms())) / 1000.0;
    if (left > 0) {
      cJSON_SetNumberHelper(expires, static_cast<double>(static_cast<std::int64_t>(left)));
    } else {
      // An idle daemon lets its token lapse and fetches a new one with the next request.
      cJSON_ReplaceItemInObjectCaseSensitive(token, "state", cJSON_CreateString("expired"));
      cJSON_DeleteItemFromObjectCaseSensitive(token, "expires_in_s");
    }
  }
}

// The daemon's status file, annotated with whether the daemon that wrote it still runs.
agent::Json daemon_json(const std::string& state_dir, std::string& summary) {
  auto file = agent::read_status_file(state_dir);
  agent::Json d(cJSON_CreateObject());
  if (!file.ok()) {
    cJSON_AddBoolToObject(d.get(), "running", false);
    summary = file.error().code == hal::Errc::not_found ? "not running (no status file)" : file.error().what;
    return d;
  }
  d = std::move(*file);
  const auto pid = static_cast<pid_t>(num(d.get(), "pid"));
  const auto start = static_cast<std::uint64_t>(num(d.get(), "pid_start"));
  const Liveness live = process_liveness(pid, start, text(d.get(), "boot_id"));
  const std::string state = text(d.get(), "state");
  const bool running = live == Liveness::alive && state != "stopped";
  const std::int64_t now = wall_now_ms();
  const std::int64_t age = now - static_cast<std::int64_t>(num(d.get(), "updated_ms"));
  cJSON_AddBoolToObject(d.get(), "running", running);
  cJSON_AddStringToObject(d.get(), "process", to_string(live));
  cJSON_AddNumberToObject(d.get(), "status_age_ms", static_cast<double>(age));
  age_relative_figures(d.get(), age);
  const std::string changed = "last change " + human_age(age) + " ago";
  if (running) {
    const std::int64_t up = now - static_cast<std::int64_t>(num(d.get(), "started_ms"));
    summary = "running (pid " + std::to_string(pid) + ", up " + human_age(up) + ", " + changed +
              (state == "draining" ? ", draining" : "") + ")";
  } else if (live == Liveness::stopped) {
    summary = "not running (pid " + std::to_string(pid) + " is stopped by a signal; " + changed + ")";
  } else {
    const char* why = live == Liveness::alive    ? " stopped"
                      : live == Liveness::reused ? " reused by another process"
                      : live == Liveness::zombie ? " exited"
                                                 : " gone";
    summary = std::string("not running (status file from ") + human_age(age) + " ago, pid " +
              std::to_string(pid) + why + ")";
  }
  return d;
}

agent::Json queue_json(const agent::QueueStats& s) {
  agent::Json q(cJSON_CreateObject());
  cJSON* p = q.get();
  const std::int64_t now = wall_now_ms();
  cJSON_AddNumberToObject(p, "pending", static_cast<double>(s.pending));
  cJSON_AddNumberToObject(p, "in_flight", static_cast<double>(s.in_flight));
  cJSON_AddNumberToObject(p, "dead", static_cast<double>(s.dead));
  cJSON_AddNumberToObject(p, "done_kept", static_cast<double>(s.done));
  if (s.oldest_pending_ms) {
    cJSON_AddNumberToObject(p, "oldest_pending_age_s",
                            static_cast<double>((now - *s.oldest_pending_ms) / 1000));
  } else {
    cJSON_AddNullToObject(p, "oldest_pending_age_s");
  }
  cJSON_AddNumberToObject(p, "last_delivery_ms", static_cast<double>(s.last_delivery_ms));
  cJSON_AddStringToObject(p, "last_error", s.last_error.c_str());
  cJSON_AddNumberToObject(p, "last_error_ms", static_cast<double>(s.last_error_ms));
  cJSON_AddNumberToObject(p, "used_bytes", static_cast<double>(s.used_bytes));
  cJSON_AddNumberToObject(p, "max_bytes", static_cast<double>(s.max_bytes));
  return q;
}

void print_queue(const agent::QueueStats& s) {
  const std::int64_t now = wall_now_ms();
  std::printf("queue:         %llu pending", static_cast<unsigned long long>(s.pending));
  if (s.oldest_pending_ms) {
    std::printf(" (oldest %s)", human_age(now - *s.oldest_pending_ms).c_str());
  }
  std::printf(", %llu in flight, %llu dead%s\n", static_cast<unsigned long long>(s.in_flight),
              static_cast<unsigned long long>(s.dead),
              s.dead > 0 ? "  (see: ion-agent queue list --dead)" : "");
  std::printf("store:         %.1f MiB of %.1f MiB, %llu delivered kept\n",
              static_cast<double>(s.used_bytes) / 1048576.0, static_cast<double>(s.max_bytes) / 1048576.0,
              static_cast<unsigned long long>(s.done));
  if (s.last_delivery_ms > 0) {
    std::printf("last delivery: %s (%s ago)\n", utc_time(s.last_delivery_ms).c_str(),
                human_age(now - s.last_delivery_ms).c_str());
  } else {
    std::printf("last delivery: never\n");
  }
  if (!s.last_error.empty()) {
    std::printf("last error:    %s (%s ago)\n", one_line(s.last_error, 100).c_str(),
                human_age(now - s.last_error_ms).c_str());
  }
}

void print_live(const cJSON* d) {
  const cJSON* disp = cJSON_GetObjectItemCaseSensitive(d, "dispatcher");
  if (cJSON_IsObject(disp)) {
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(disp, "link_ok"))) {
      std::printf("link:          ok, %.0f in flight\n", num(disp, "in_flight"));
    } else {
      std::printf("link:          backing off after %.0f failures, next try in %.1f s\n",
                  num(disp, "link_failures"), num(disp, "retry_in_ms") / 1000.0);
    }
  }
  const cJSON* token = cJSON_GetObjectItemCaseSensitive(d, "token");
  if (cJSON_IsObject(token)) {
    std::string line;
    for (const cJSON* m = token->child; m != nullptr; m = m->next) {
      if (std::string(m->string) == "valid_until_ms") {
        continue;  // for recomputing expires_in_s, not for reading
      }
      agent::JsonText v(cJSON_IsString(m) ? nullptr : cJSON_PrintUnformatted(m));
      line += std::string(line.empty() ? "" : ", ") + m->string + "=" +
              (cJSON_IsString(m) ? m->valuestring
               : v               ? v.get()
                                 : "?");
    }
    std::printf("token:         %s\n", line.c_str());
  }
  const cJSON* lock = cJSON_GetObjectItemCaseSensitive(d, "last_interlock");
  if (cJSON_IsObject(lock)) {
    std::printf("interlock:     \"%s\": %s\n", text(lock, "text").c_str(), text(lock, "message").c_str());
  }
  const cJSON* devices = cJSON_GetObjectItemCaseSensitive(d, "devices");
  const cJSON* dev = nullptr;
  cJSON_ArrayForEach(dev, devices) {
    std::string detail = text(dev, "detail");
    std::printf("device:        %-12s %s%s%s\n", text(dev, "name").c_str(), text(dev, "state").c_str(),
                detail.empty() ? "" : "  ", detail.c_str());
  }
}

// The station context: the running daemon's (status.json), or the one the outbox holds for
// the next start. Values came from scans: printed escaped.
void print_context(const cJSON* d, agent::Outbox* box) {
  std::string line;
  std::string source;
  const cJSON* ctx = cJSON_GetObjectItemCaseSensitive(d, "context");
  const bool running = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "running"));
  if (running && cJSON_IsObject(ctx)) {
    for (const cJSON* m = ctx->child; m != nullptr; m = m->next) {
      line += std::string(line.empty() ? "" : ", ") + m->string + "=" +
              (cJSON_IsString(m) ? m->valuestring : "?");
    }
    source = text(d, "context_note");
  } else if (box != nullptr) {
    auto saved = box->saved_context();
    if (saved.ok() && *saved) {
      auto c = agent::context_from_json((*saved)->json);
      for (const auto& kv : c.ok() ? *c : agent::Workflow::Context{}) {
        line += (line.empty() ? "" : ", ") + kv.first + "=" + kv.second;
      }
      source = "saved " + human_age(wall_now_ms() - (*saved)->saved_ms) + " ago, restored at the next start";
    }
  }
  std::printf("context:       %s%s%s\n", line.empty() ? "none" : hal::escape_control(line).c_str(),
              source.empty() ? "" : "  ",
              source.empty() ? "" : ("(" + hal::escape_control(source) + ")").c_str());
}

}  // namespace

int cmd_status(int argc, char** argv) {
  std::string state_dir = agent::kDefaultStateDir;
  bool json = false;
  std::string tcti;
  for (int i = 0; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--help" || s == "-h") {
      std::printf("%s", kUsage);
      return kExitOk;
    }
    if (s == "--json") {
      json = true;
    } else if (!(take_option_value(argc, argv, i, "--state-dir", state_dir) ||
                 take_option_value(argc, argv, i, "--tcti", tcti))) {
      std::fprintf(stderr, "ion-agent status: unexpected argument '%s'\n%s", argv[i], kUsage);
      return kExitUsage;
    }
  }
  hal::SystemClock clock;
  std::string daemon_summary;
  agent::Json daemon = daemon_json(state_dir, daemon_summary);
  auto box = open_existing_outbox(state_dir, clock, agent::Outbox::Mode::read_only);
  hal::Result<agent::QueueStats> stats =
      box.ok() ? (*box)->stats() : hal::Result<agent::QueueStats>(box.error());
  // Which provider protects the key: from the sealed file's header, without unsealing.
  std::string key_kind, key_text;
  {
    agent::VaultFailure why = agent::VaultFailure::none;
    auto id = agent::Vault::sealed_provider(sealed_path(state_dir), &why);
    if (!id.ok()) {
      key_kind = why == agent::VaultFailure::missing ? "none" : "unreadable";
      key_text = why == agent::VaultFailure::missing ? "not provisioned" : id.error().what;
    } else {
      key_kind = agent::key_provider_short_name(*id);
      agent::KeyProviderSettings ks;
      ks.state_dir = state_dir;
      ks.tcti = tcti;
      auto keys = agent::make_key_provider(*id, ks);
      key_text = keys.ok() ? key_kind + ": " + (*keys)->name() : key_kind + ": " + keys.error().what;
    }
  }
  if (json) {
    agent::Json out(cJSON_CreateObject());
    cJSON_AddStringToObject(out.get(), "state_dir", state_dir.c_str());
    cJSON_AddStringToObject(out.get(), "key_provider", key_kind.c_str());
    cJSON_AddStringToObject(out.get(), "key_protection", key_text.c_str());
    if (stats.ok()) {
      cJSON_AddItemToObject(out.get(), "queue", queue_json(*stats).release());
    } else {
      cJSON_AddStringToObject(out.get(), "queue_error", stats.error().what.c_str());
    }
    cJSON_AddItemToObject(out.get(), "daemon", daemon.release());
    print_json(out.get());
    return stats.ok() ? kExitOk : kExitFailure;
  }
  std::printf("state dir:     %s\n", state_dir.c_str());
  std::printf("daemon:        %s\n", daemon_summary.c_str());
  std::printf("key:           %s\n", key_text.c_str());
  if (stats.ok()) {
    print_queue(*stats);
  } else {
    std::printf("queue:         unreadable: %s\n", stats.error().what.c_str());
  }
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(daemon.get(), "running"))) {
    print_live(daemon.get());
  }
  print_context(daemon.get(), box.ok() ? box->get() : nullptr);
  return stats.ok() ? kExitOk : kExitFailure;
}

}  // namespace firmware
