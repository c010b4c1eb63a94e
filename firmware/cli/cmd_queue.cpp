// SPDX-License-Identifier: Apache-2.0
// ion-agent queue: inspect the outbox and redrive or drop dead letters. Works while the
// daemon runs (SQLite locking; the daemon's inotify watch on the outbox WAL wakes it at once):
// retry and drop then hand their change to the daemon (Outbox::Mode::shared_write) instead of
// opening the outbox as its owner.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "agent/outbox/outbox.hpp"
#include "agent/vault/vault.hpp"
#include "commands.hpp"
#include "hal/clock.hpp"
#include "ion_connection.hpp"
#include "queue_view.hpp"
#include "state_lock.hpp"

namespace firmware {
namespace {

constexpr const char* kUsage =
    "Usage: ion-agent queue [--state-dir DIR] list [--all | --dead | --pending | --done]\n"
    "                                          [--limit N] [--json]\n"
    "       ion-agent queue [--state-dir DIR] show ID [--json]\n"
    "       ion-agent queue [--state-dir DIR] retry ID\n"
    "       ion-agent queue [--state-dir DIR] drop ID [--yes]\n"
    "\n"
    "Lists the intents waiting in the outbox (default: pending, in flight and dead), shows one,\n"
    "sends a dead letter again (with the intents that died because of it) once its cause is\n"
    "fixed, or drops a dead letter for good (asks first on a terminal unless --yes).\n"
    "ID is the intent's number (SEQ) or 4+ characters from the start or end of its UUID\n"
    "(the start is the acceptance time, shared by one event's intents; the end is random).\n"
    "  --state-dir DIR  where outbox.db lives (default " ION_AGENT_DEFAULT_STATE_DIR ")\n";

struct Args {
  std::string state_dir = agent::kDefaultStateDir;
  std::string verb, id, limit = "50";
  std::vector<agent::IntentState> states = {agent::IntentState::pending, agent::IntentState::in_flight,
                                            agent::IntentState::dead};
  bool json = false, yes = false, help = false;
};

bool parse(int argc, char** argv, Args& a, std::string& err) {
  for (int i = 0; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--help" || s == "-h") {
      a.help = true;
    } else if (s == "--json") {
      a.json = true;
    } else if (s == "--yes" || s == "-y") {
      a.yes = true;
    } else if (s == "--all") {
      a.states.clear();
    } else if (s == "--dead" || s == "--pending" || s == "--done") {
      a.states = {s == "--dead"      ? agent::IntentState::dead
                  : s == "--pending" ? agent::IntentState::pending
                                     : agent::IntentState::done};
    } else if (take_option_value(argc, argv, i, "--state-dir", a.state_dir) ||
               take_option_value(argc, argv, i, "--limit", a.limit)) {
    } else if (!s.empty() && s[0] == '-') {
      err = "unknown option '" + s + "'";
      return false;
    } else if (a.verb.empty()) {
      a.verb = s;
    } else if (a.id.empty()) {
      a.id = s;
    } else {
      err = "unexpected argument '" + s + "'";
      return false;
    }
  }
  return true;
}

int list(agent::Outbox& box, const Args& a) {
  agent::ListFilter f;
  f.states = a.states;
  f.limit = static_cast<std::size_t>(std::max(1L, std::strtol(a.limit.c_str(), nullptr, 10)));
  auto rows = box.list(f);
  if (!rows.ok()) {
    std::fprintf(stderr, "ion-agent queue: %s\n", rows.error().what.c_str());
    return kExitFailure;
  }
  if (a.json) {
    agent::Json arr(cJSON_CreateArray());
    for (const auto& r : *rows) {
      cJSON_AddItemToArray(arr.get(), intent_json(r).release());
    }
    print_json(arr.get());
    return kExitOk;
  }
  if (rows->empty()) {
    std::printf("no intents%s\n", a.states.empty() ? "" : " in the selected states");
    return kExitOk;
  }
  std::printf("%-6s %-9s %-13s %-18s %-4s %-8s %s\n", "SEQ", "STATE", "KIND", "SUBJECT", "TRY", "AGE",
              "LAST ERROR");
  const std::int64_t now = wall_now_ms();
  for (const auto& r : *rows) {
    std::printf("%-6lld %-9s %-13s %-18s %-4d %-8s %s\n", static_cast<long long>(r.seq),
                agent::to_string(r.state), r.kind.c_str(), r.subject.c_str(), r.attempts,
                human_age(now - r.accepted_ms).c_str(), one_line(r.last_error, 80).c_str());
  }
  return kExitOk;
}

int show(agent::Outbox& box, const Args& a) {
  auto r = box.find(a.id);
  if (!r.ok()) {
    std::fprintf(stderr, "ion-agent queue: %s\n", r.error().what.c_str());
    return kExitFailure;
  }
  if (a.json) {
    print_json(intent_json(*r).get());
    return kExitOk;
  }
  print_intent(*r);
  return kExitOk;
}

int retry(agent::Outbox& box, const Args& a) {
  auto n = box.retry(a.id);
  if (!n.ok()) {
    std::fprintf(stderr, "ion-agent queue: %s\n", n.error().what.c_str());
    return kExitFailure;
  }
  std::printf("revived %d intent%s; the daemon sends %s within seconds\n", *n, *n == 1 ? "" : "s",
              *n == 1 ? "it" : "them in order");
  return kExitOk;
}

bool confirm(const agent::IntentRecord& r) {
  std::printf("Drop dead intent #%lld (%s %s)? It will never reach ION. [y/N] ",
              static_cast<long long>(r.seq), r.kind.c_str(), r.subject.c_str());
  std::fflush(stdout);
  char line[16] = {};
  if (std::fgets(line, sizeof line, stdin) == nullptr) {
    return false;
  }
  return line[0] == 'y' || line[0] == 'Y';
}

int drop(agent::Outbox& box, const Args& a) {
  auto r = box.find(a.id);
  if (!r.ok()) {
    std::fprintf(stderr, "ion-agent queue: %s\n", r.error().what.c_str());
    return kExitFailure;
  }
  if (r->state != agent::IntentState::dead) {
    std::fprintf(stderr, "ion-agent queue: drop: intent #%lld is %s; only dead letters can be dropped\n",
                 static_cast<long long>(r->seq), agent::to_string(r->state));
    return kExitFailure;
  }
  if (!a.yes) {
    if (isatty(STDIN_FILENO) == 0) {
      std::fprintf(stderr, "ion-agent queue: drop: stdin is not a terminal; add --yes to drop #%lld\n",
                   static_cast<long long>(r->seq));
      return kExitUsage;
    }
    if (!confirm(*r)) {
      std::printf("kept #%lld\n", static_cast<long long>(r->seq));
      return kExitFailure;
    }
  }
  auto st = box.drop(r->uuid);
  if (!st.ok()) {
    std::fprintf(stderr, "ion-agent queue: %s\n", st.error().what.c_str());
    return kExitFailure;
  }
  std::printf("dropped #%lld\n", static_cast<long long>(r->seq));
  return kExitOk;
}

}  // namespace

int cmd_queue(int argc, char** argv) {
  Args a;
  std::string err;
  if (!parse(argc, argv, a, err)) {
    std::fprintf(stderr, "ion-agent queue: %s\n%s", err.c_str(), kUsage);
    return kExitUsage;
  }
  if (a.help) {
    std::printf("%s", kUsage);
    return kExitOk;
  }
  const bool needs_id = a.verb == "show" || a.verb == "retry" || a.verb == "drop";
  if ((a.verb != "list" && !needs_id) || (needs_id && a.id.empty()) || (!needs_id && !a.id.empty())) {
    std::fprintf(stderr, "%s", kUsage);
    return kExitUsage;
  }
  hal::SystemClock clock;
  const bool writes = a.verb == "retry" || a.verb == "drop";
  auto mode = agent::Outbox::Mode::read_only;
  std::optional<StateLock> lock;
  if (writes) {
    // With no daemon this command owns the state directory while it works (a daemon starting
    // meanwhile waits for its restart). With the daemon running the change is handed to it:
    // a shared open skips the owner's start-up steps (its crash recovery would put the
    // daemon's in-flight intents back to pending, to be sent twice) and the daemon's watch
    // on the outbox picks the change up at once.
    StateLock::Holder holder;
    auto l = StateLock::acquire(a.state_dir, "queue", &holder);
    if (l.ok()) {
      lock = std::move(l).value();
      mode = agent::Outbox::Mode::read_write;
    } else if (l.error().code == hal::Errc::busy && holder.command == "run") {
      mode = agent::Outbox::Mode::shared_write;
    } else {
      std::fprintf(stderr, "ion-agent queue: %s: %s; try again when it has finished\n", a.state_dir.c_str(),
                   l.error().what.c_str());
      return l.error().code == hal::Errc::busy ? kExitLocked : kExitFailure;
    }
  }
  auto box = open_existing_outbox(a.state_dir, clock, mode);
  if (!box.ok()) {
    std::fprintf(stderr, "ion-agent queue: %s\n", box.error().what.c_str());
    return kExitFailure;
  }
  if (a.verb == "list") {
    return list(**box, a);
  }
  if (a.verb == "show") {
    return show(**box, a);
  }
  return a.verb == "retry" ? retry(**box, a) : drop(**box, a);
}

}  // namespace firmware
