// SPDX-License-Identifier: Apache-2.0
// The ion-agent subcommands. Each lives in its own cmd_<name>.cpp and is listed once in the
// table in main.cpp. A command gets argv after its own name and returns the process exit code.
#pragma once

#include <string_view>

namespace firmware {

struct Command {
  std::string_view name;
  int (*run)(int argc, char** argv);
  std::string_view summary;
};

// Exit codes shared by all commands (sysexits.h where one fits).
enum Exit : int {
  kExitOk = 0,
  kExitFailure = 1,
  kExitUsage = 64,  // EX_USAGE
};

int cmd_version(int argc, char** argv);
int cmd_decode(int argc, char** argv);

}  // namespace firmware
