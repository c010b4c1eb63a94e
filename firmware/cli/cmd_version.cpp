// SPDX-License-Identifier: Apache-2.0
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include <cstdio>

#include "agent/crypto/crypto.hpp"
#include "commands.hpp"
#include "hal/linux/gpiod_handles.hpp"
#include "version.hpp"

namespace firmware {

int cmd_version(int, char**) {
  std::printf("ion-agent %s\n", ION_AGENT_VERSION);
  std::printf("  %s\n", agent::crypto::library_version().c_str());
  std::printf("  %s\n", curl_version());
  std::printf("  cJSON %s\n", cJSON_Version());
  std::printf("  SQLite %s\n", sqlite3_libversion());
  std::printf("  %s\n", hal::linux_gpiod::library_version().c_str());
  return kExitOk;
}

}  // namespace firmware
