// SPDX-License-Identifier: Apache-2.0
// ion-agent status: one screen of health. The queue comes from the outbox database (so it
// works with the daemon stopped); live state (link, token, devices) from the daemon's
// <state-dir>/status.json, whose contract is in agent/status_file.hpp.
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "agent/outbox.hpp"
#include "agent/status_file.hpp"
#include "agent/vault.hpp"
#include "commands.hpp"
#include "hal/clock.hpp"
#include "ion_cli.hpp"
#include "outbox_cli.hpp"

namespace firmware {
namespace {

constexpr const char* kUsage =
    "Usage: ion-agent status [--state-dir DIR] [--json]\n"
    "\n"
    "Shows the outbox (pending count, oldest pending age, dead letters, last delivery, last\n"
    "error) and, when the daemon runs, its link, token and device state.\n"
    "Exit 0 when the outbox could be read, 1 otherwise.\n"
    "  --state-dir DIR  the daemon's state directory (default /var/lib/ion-agent)\n"
    "  --json           one JSON object instead of text\n";

double num(const cJSON* o, const char* k) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

std::string text(const cJSON* o, const char* k) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : "";
}

// The daemon's status file, annotated with whether the daemon is alive and fresh.
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
  const bool alive = pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
  const std::int64_t age = wall_now_ms() - static_cast<std::int64_t>(num(d.get(), "updated_ms"));
  const bool fresh = age <= 3 * std::chrono::milliseconds(agent::kStatusRefresh).count();
  cJSON_AddBoolToObject(d.get(), "running", alive && fresh);
  cJSON_AddNumberToObject(d.get(), "status_age_ms", static_cast<double>(age));
  if (alive && fresh) {
    summary = "running (pid " + std::to_string(pid) + ", status " + human_age(age) + " old)";
  } else {
    summary = std::string("not running (status file from ") + human_age(age) + " ago, pid " +
              std::to_string(pid) + (alive ? " alive but silent)" : " gone)");
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
      agent::JsonText v(cJSON_IsString(m) ? nullptr : cJSON_PrintUnformatted(m));
      line += std::string(line.empty() ? "" : ", ") + m->string + "=" +
              (cJSON_IsString(m) ? m->valuestring
               : v               ? v.get()
                                 : "?");
    }
    std::printf("token:         %s\n", line.c_str());
  }
  const cJSON* devices = cJSON_GetObjectItemCaseSensitive(d, "devices");
  const cJSON* dev = nullptr;
  cJSON_ArrayForEach(dev, devices) {
    std::string detail = text(dev, "detail");
    std::printf("device:        %-12s %s%s%s\n", text(dev, "name").c_str(), text(dev, "state").c_str(),
                detail.empty() ? "" : "  ", detail.c_str());
  }
}

}  // namespace

int cmd_status(int argc, char** argv) {
  std::string state_dir = agent::kDefaultStateDir;
  bool json = false;
  for (int i = 0; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--help" || s == "-h") {
      std::printf("%s", kUsage);
      return kExitOk;
    }
    if (s == "--json") {
      json = true;
    } else if (!take_option_value(argc, argv, i, "--state-dir", state_dir)) {
      std::fprintf(stderr, "ion-agent status: unexpected argument '%s'\n%s", argv[i], kUsage);
      return kExitUsage;
    }
  }
  hal::SystemClock clock;
  std::string daemon_summary;
  agent::Json daemon = daemon_json(state_dir, daemon_summary);
  auto box = open_existing_outbox(state_dir, clock, false);
  hal::Result<agent::QueueStats> stats =
      box.ok() ? (*box)->stats() : hal::Result<agent::QueueStats>(box.error());
  if (json) {
    agent::Json out(cJSON_CreateObject());
    cJSON_AddStringToObject(out.get(), "state_dir", state_dir.c_str());
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
  if (stats.ok()) {
    print_queue(*stats);
  } else {
    std::printf("queue:         unreadable: %s\n", stats.error().what.c_str());
  }
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(daemon.get(), "running"))) {
    print_live(daemon.get());
  }
  return stats.ok() ? kExitOk : kExitFailure;
}

}  // namespace firmware
