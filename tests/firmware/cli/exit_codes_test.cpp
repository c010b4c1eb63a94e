// SPDX-License-Identifier: Apache-2.0
// The exit codes of firmware/cli/commands.hpp against what the man page documents and what
// the systemd unit refuses to restart on: each code documented, the prevent list exactly the
// codes a restart cannot fix.
#include <CppUTest/TestHarness.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "commands.hpp"

namespace {

std::string slurp(const std::string& rel) {
  std::ifstream in(std::string(ION_SOURCE_DIR) + "/" + rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_GROUP(ExitCodes){};

TEST(ExitCodes, EveryCodeIsInTheManPage) {
  const std::string header = slurp("firmware/cli/commands.hpp");
  const std::string man = slurp("deploy/man/ion-agent.8");
  CHECK(!header.empty() && !man.empty());
  const std::regex code(R"(kExit\w+ = (\d+),)");
  int seen = 0;
  for (std::sregex_iterator it(header.begin(), header.end(), code), end; it != end; ++it) {
    const std::string n = (*it)[1];
    const std::regex documented("\\n\\.BR? [^\\n]*\\b" + n + "\\b");
    CHECK_TEXT(std::regex_search(man, documented), ("exit code " + n + " is not in ion-agent.8").c_str());
    ++seen;
  }
  CHECK(seen >= 20);
}

TEST(ExitCodes, TheUnitStopsRestartingExactlyOnWhatARestartCannotFix) {
  const std::string unit = slurp("deploy/systemd/ion-agent.service.in");
  std::smatch m;
  CHECK(std::regex_search(unit, m, std::regex(R"(\nRestartPreventExitStatus=([0-9 ]+)\n)")));
  std::set<int> listed;
  std::istringstream in(m[1].str());
  for (int n = 0; in >> n;) {
    listed.insert(n);
  }
  const std::set<int> expected = {firmware::kExitNotProvisioned,
                                  firmware::kExitVaultPermissions,
                                  firmware::kExitVaultFormat,
                                  firmware::kExitVaultAuth,
                                  firmware::kExitConfig,
                                  firmware::kExitOutboxCorrupt,
                                  firmware::kExitOutboxSchema,
                                  firmware::kExitKeyOtherDevice,
                                  firmware::kExitKeyPolicy,
                                  firmware::kExitKeyWrongPin,
                                  firmware::kExitKeyPinLocked,
                                  firmware::kExitKeyTampered,
                                  firmware::kExitKeyUnavailable,
                                  firmware::kExitUsage,
                                  78};
  CHECK(listed == expected);
  // What a restart can fix is never in the list: a reader holding the outbox, another daemon
  // that stops, an unreadable state directory, the network.
  for (int restartable : {firmware::kExitLocked, firmware::kExitOutboxStorage, firmware::kExitVaultIo,
                          firmware::kExitKeyDeviceAbsent, firmware::kExitNetwork, firmware::kExitServer}) {
    CHECK_TEXT(listed.count(restartable) == 0, std::to_string(restartable).c_str());
  }
}
