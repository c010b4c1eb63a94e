// SPDX-License-Identifier: Apache-2.0
#include "softhsm.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "subprocess.hpp"

namespace ion_test {

SoftHsm::SoftHsm(const std::string& dir, const std::string& label)
    : dir_(dir), conf_(dir + "/softhsm2.conf") {
  ::mkdir(dir_.c_str(), 0700);
  ::mkdir((dir_ + "/tokens").c_str(), 0700);
  std::ofstream(conf_) << "directories.tokendir = " << dir_ << "/tokens\nobjectstore.backend = file\n"
                       << "log.level = ERROR\nslots.removable = false\n";
  // Test-only PINs on softhsm2-util's command line; the agent itself never takes one there.
  auto r = run_process({ION_SOFTHSM2_UTIL, "--init-token", "--free", "--label", label, "--pin", kUserPin,
                        "--so-pin", "0000-test-so"},
                       "", std::chrono::seconds(30), {env()});
  if (r.exit_code != 0) {
    error_ = "softhsm2-util --init-token failed: " + r.err + r.out;
  }
}

void SoftHsm::use() const {
  ::setenv("SOFTHSM2_CONF", conf_.c_str(), 1);
}

}  // namespace ion_test
