// SPDX-License-Identifier: Apache-2.0
// Disk full: the outbox on a 2 MiB tmpfs mounted in a private mount namespace (a forked child
// does unshare(CLONE_NEWNS), so nothing leaks into the host's mounts; needs root, as CI is).
// Accepted intents survive, new ones are refused with a clear error, and acceptance resumes
// when space returns.
#include <CppUTest/TestHarness.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "agent/outbox/outbox.hpp"
#include "forked.hpp"
#include "outbox_harness.hpp"
#include "scratch_dir.hpp"

namespace {

// Runs inside the child, in its own mount namespace. Returns "" on success.
std::string scenario(const std::string& dir) {
  if (auto err = testing_support::private_tmpfs(dir, "size=2m,mode=0700"); !err.empty()) {
    return err;
  }
  const std::string filler = dir + "/filler";
  {
    std::ofstream f(filler, std::ios::binary);
    std::vector<char> mb(1 << 20, 'x');
    f.write(mb.data(), static_cast<std::streamsize>(mb.size()));
  }
  hal::SystemClock clock;
  std::vector<std::string> accepted;
  hal::Error refused(hal::Errc::internal, "never refused");
  {
    auto box = agent::Outbox::open(dir + "/outbox.db", {}, clock);
    if (!box.ok()) {
      return "open: " + box.error().what;
    }
    for (int i = 0; i < 100000; ++i) {
      auto id = (*box)->append(outbox_test::recipe_intent("FULL", i, clock));
      if (!id.ok()) {
        refused = id.error();
        break;
      }
      accepted.push_back(*id);
    }
  }
  if (refused.code != hal::Errc::storage || refused.what.find("disk full") == std::string::npos) {
    return "expected a disk-full refusal, got: " + refused.what;
  }
  if (accepted.size() < 20) {
    return "only " + std::to_string(accepted.size()) + " accepted before the disk filled";
  }
  auto box = agent::Outbox::open(dir + "/outbox.db", {}, clock);
  if (!box.ok()) {
    return "reopen on a full disk: " + box.error().what;
  }
  auto st = (*box)->stats();
  if (!st.ok() || st->pending != accepted.size()) {
    return "after reopen: " + std::to_string(st.ok() ? st->pending : 0) + " pending, accepted " +
           std::to_string(accepted.size());
  }
  for (const auto& id : accepted) {
    if (!(*box)->find(id).ok()) {
      return "accepted intent " + id + " is gone";
    }
  }
  // Closing the first connection checkpointed and deleted its WAL, which frees tmpfs space
  // (how much depends on the SQLite version), and SQLite may still fit a few rows into pages it
  // already holds. Such an append is durable and correct to accept; so top the disk up to the
  // last byte and keep appending until the refusal comes, within a small bound.
  const std::string topup = dir + "/topup";
  std::string last = "never refused";
  bool refused_again = false;
  for (int attempt = 0; attempt < 200 && !refused_again; ++attempt) {
    {
      std::ofstream f(topup + std::to_string(attempt), std::ios::binary);
      std::vector<char> kb(1024, 'y');
      while (f.write(kb.data(), static_cast<std::streamsize>(kb.size())) && f.flush()) {
      }
    }
    auto again = (*box)->append(outbox_test::recipe_intent("FULL", static_cast<int>(accepted.size()), clock));
    if (again.ok()) {
      accepted.push_back(*again);
      continue;
    }
    last = again.error().what;
    refused_again = again.error().code == hal::Errc::storage;
    if (!refused_again) {
      break;
    }
  }
  if (!refused_again) {
    return "append on a still-full disk was not refused as a storage error: " + last;
  }
  for (int attempt = 0; attempt < 200; ++attempt) {
    std::remove((topup + std::to_string(attempt)).c_str());
  }
  std::remove(filler.c_str());  // space returns
  for (int i = 0; i < 50; ++i) {
    auto id = (*box)->append(outbox_test::recipe_intent("FULL", static_cast<int>(accepted.size()), clock));
    if (!id.ok()) {
      return "append after space returned: " + id.error().what;
    }
    accepted.push_back(*id);
  }
  st = (*box)->stats();
  if (!st.ok() || st->pending != accepted.size()) {
    return "after space returned: pending count wrong";
  }
  return {};
}

}  // namespace

TEST_GROUP(OutboxDiskFull){};

TEST(OutboxDiskFull, AcceptedIntentsSurviveNewOnesAreRefusedAndAcceptanceResumes) {
  if (geteuid() != 0) {
    FAIL("needs root (CAP_SYS_ADMIN) to mount a private tmpfs; CI runs as root");
  }
  testing_support::ScratchDir dir{"outbox-full"};
  auto child = testing_support::run_forked([&] { return scenario(dir.path()); });
  CHECK_TRUE_TEXT(child.ok, child.message.c_str());
}
