// SPDX-License-Identifier: Apache-2.0
// Shared CppUTest main. CppUTest's own new/delete leak detector is turned off: libcurl,
// SQLite and Mbed TLS keep process-wide caches it would report, and the ASan+UBSan build
// (LeakSanitizer) checks leaks for real.
#include <CppUTest/CommandLineTestRunner.h>
#include <CppUTest/MemoryLeakWarningPlugin.h>

int main(int argc, char** argv) {
  MemoryLeakWarningPlugin::turnOffNewDeleteOverloads();
  return CommandLineTestRunner::RunAllTests(argc, argv);
}
