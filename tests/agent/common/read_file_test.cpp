// SPDX-License-Identifier: Apache-2.0
// agent::read_file: the bytes as they are (empty, no final newline, CRLF, NULs), /proc files
// whose size stat reports as 0, and errors that name the path and the step.
#include "agent/common/read_file.hpp"

#include <CppUTest/TestHarness.h>

#include <string>

#include "agent/common/atomic_file.hpp"
#include "scratch_dir.hpp"

TEST_GROUP(ReadFile) {
  testing_support::ScratchDir dir{"ion-read-file"};
  std::string write(const std::string& name, const std::string& data) {
    const std::string path = dir.file(name);
    CHECK(agent::write_file_atomic(path, data).ok());
    return path;
  }
};

TEST(ReadFile, ReturnsTheBytesAsTheyAre) {
  const std::string bytes = std::string("a\r\nb\0c", 6) + std::string(10000, 'x') + "no newline";
  auto r = agent::read_file(write("f", bytes));
  CHECK(r.ok());
  CHECK(bytes == r.value());
  auto e = agent::read_file(write("empty", ""));
  CHECK(e.ok());
  CHECK(e->empty());
}

TEST(ReadFile, ReadsProcFilesWhoseSizeIsZero) {
  auto r = agent::read_file("/proc/self/stat");
  CHECK(r.ok());
  CHECK(r->size() > 20);
  STRCMP_EQUAL(r->substr(0, r->find('\n')).c_str(), agent::first_line(r.value()).c_str());
}

TEST(ReadFile, ErrorsNameThePathAndTheStep) {
  agent::ReadFileError why = agent::ReadFileError::none;
  auto missing = agent::read_file(dir.file("nope"), 100, &why);
  CHECK(!missing.ok());
  CHECK(why == agent::ReadFileError::open);
  CHECK(missing.error().code == hal::Errc::not_found);
  STRCMP_EQUAL(("open " + dir.file("nope") + ": No such file or directory").c_str(),
               missing.error().what.c_str());

  auto directory = agent::read_file(dir.path(), 100, &why);
  CHECK(!directory.ok());
  CHECK(why == agent::ReadFileError::read);
  STRCMP_EQUAL(("read " + dir.path() + ": Is a directory").c_str(), directory.error().what.c_str());

  const std::string big = write("big", std::string(101, 'x'));
  auto large = agent::read_file(big, 100, &why);
  CHECK(!large.ok());
  CHECK(why == agent::ReadFileError::too_large);
  STRCMP_EQUAL(("read " + big + ": larger than 100 bytes").c_str(), large.error().what.c_str());
  auto exact = agent::read_file(write("exact", std::string(100, 'x')), 100, &why);
  CHECK(exact.ok());
  CHECK(why == agent::ReadFileError::none);
}

TEST(ReadFile, FirstLineIsWhatGetlineReads) {
  STRCMP_EQUAL("", agent::first_line("").c_str());
  STRCMP_EQUAL("", agent::first_line("\nb").c_str());
  STRCMP_EQUAL("a\r", agent::first_line("a\r\nb").c_str());
  STRCMP_EQUAL("only", agent::first_line("only").c_str());
}
