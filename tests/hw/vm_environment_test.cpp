// SPDX-License-Identifier: Apache-2.0
// The VM runner's contract with the hw suites (tests/vm/run-vm.sh, guest-init.sh): inside
// the VM, a test can create its own gpio-sim chip through configfs and see its character
// device, open /dev/uinput, write scratch files under /tmp, and open /dev/tpmrm0 when the
// runner attached a TPM (ION_VM_TPM=1; "missing" if it did but the kernel made no device). If one of these
// fails, every GPIO or scanner test after it would fail for a reason unrelated to the code under test, so
// this suite names the broken piece of the environment instead.
#include <CppUTest/TestHarness.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "hal/c_handle.hpp"

namespace {

const std::string kSimRoot = "/sys/kernel/config/gpio-sim";

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  f.flush();
  return static_cast<bool>(f);
}

std::string read_line(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

// A gpio-sim device made through configfs and torn down again, whatever the test does.
class SimChip {
 public:
  explicit SimChip(const std::string& name) : dir_(kSimRoot + "/" + name) {
    made_ = mkdir(dir_.c_str(), 0755) == 0 && mkdir((dir_ + "/bank0").c_str(), 0755) == 0;
  }
  ~SimChip() {
    write_file(dir_ + "/live", "0");
    rmdir((dir_ + "/bank0").c_str());
    rmdir(dir_.c_str());
  }
  SimChip(const SimChip&) = delete;
  SimChip& operator=(const SimChip&) = delete;

  bool made() const { return made_; }
  bool go_live(int lines) {
    return write_file(dir_ + "/bank0/num_lines", std::to_string(lines)) && write_file(dir_ + "/live", "1");
  }
  std::string chip_name() const { return read_line(dir_ + "/bank0/chip_name"); }

 private:
  std::string dir_;
  bool made_ = false;
};

}  // namespace

TEST_GROUP(VmEnvironment){};

TEST(VmEnvironment, GpioSimChipAppearsAsCharacterDevice) {
  struct stat st {};
  CHECK_TEXT(stat(kSimRoot.c_str(), &st) == 0, "configfs gpio-sim is not mounted");
  SimChip chip("vmenv-" + std::to_string(getpid()));
  CHECK_TEXT(chip.made(), std::strerror(errno));
  CHECK(chip.go_live(4));
  const std::string name = chip.chip_name();
  CHECK_TEXT(name.rfind("gpiochip", 0) == 0, name.c_str());
  const std::string dev = "/dev/" + name;
  CHECK_TEXT(stat(dev.c_str(), &st) == 0 && S_ISCHR(st.st_mode), dev.c_str());
}

TEST(VmEnvironment, UinputOpensForWriting) {
  hal::UniqueFd fd(open("/dev/uinput", O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  CHECK_TEXT(fd.get() >= 0, std::strerror(errno));
}

TEST(VmEnvironment, TmpIsWritable) {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/vmenv.XXXXXX";
  hal::UniqueFd fd(mkstemp(path.data()));
  CHECK_TEXT(fd.get() >= 0, std::strerror(errno));
  CHECK(write(fd.get(), "x", 1) == 1);
  unlink(path.c_str());
}

TEST(VmEnvironment, AttachedTpmIsAKernelDevice) {
  const char* tpm = std::getenv("ION_VM_TPM");
  if (tpm == nullptr) {
    return;  // no TPM attached (swtpm not installed, ION_VM_TPM=0, or not in the VM)
  }
  STRCMP_EQUAL_TEXT("1", tpm, "the VM has a TPM attached, but the kernel made no /dev/tpmrm0");
  hal::UniqueFd fd(open("/dev/tpmrm0", O_RDWR | O_CLOEXEC));
  CHECK_TEXT(fd.get() >= 0, std::strerror(errno));
}
