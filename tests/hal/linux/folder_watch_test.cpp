// SPDX-License-Identifier: Apache-2.0
// FolderWatch on a real directory with real inotify: a file written and closed, or moved in
// whole, is one file event; names that do not match, unreadable and oversized files are
// refusals with their reason; hidden (temporary) names are skipped; a deleted directory is
// watched again once it is back.
#include "hal/linux/folder_watch.hpp"

#include <CppUTest/TestHarness.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "temp_dir.hpp"

using namespace std::chrono_literals;
using hal::StationEvent;
using hal::linux_folder::FolderWatch;
using hal::linux_folder::FolderWatchOptions;

namespace {

const hal::Clock::MonoTime kT0{std::chrono::seconds(500)};

void write_file(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
}

// Waits (at most 2 s) for the watch to become readable and collects what it reports.
std::vector<StationEvent> events(FolderWatch& w) {
  std::vector<StationEvent> out;
  struct pollfd p {
    w.fd(), POLLIN, 0
  };
  if (::poll(&p, 1, 2000) == 1) {
    w.on_readable(kT0, out);
  }
  return out;
}

FolderWatchOptions options(const std::string& dir) {
  FolderWatchOptions o;
  o.folder.name = "results";
  o.folder.path = dir;
  o.folder.pattern = "*.csv";
  o.folder.max_bytes = 100;
  o.reopen_min = 10ms;
  o.reopen_max = 10ms;
  return o;
}

}  // namespace

TEST_GROUP(FolderWatch){};

TEST(FolderWatch, AClosedFileIsOneFileEventWithItsPath) {
  test_support::TempDir dir;
  FolderWatch w(options(dir.path()));
  CHECK(w.open(kT0).ok());
  CHECK(w.status().connected);
  write_file(dir.file("SN-1.csv"), "PASS\n");
  auto evs = events(w);
  LONGS_EQUAL(1, evs.size());
  CHECK(evs[0].kind == StationEvent::Kind::file);
  STRCMP_EQUAL("results", evs[0].input.c_str());
  STRCMP_EQUAL(dir.file("SN-1.csv").c_str(), evs[0].text.c_str());
  STRCMP_EQUAL("", evs[0].error.c_str());
  STRCMP_EQUAL("PASS", evs[0].first_line.c_str());
}

TEST(FolderWatch, TheFirstLineIsCutAtItsEndOrAtTheLimit) {
  test_support::TempDir dir;
  hal::FolderFilter f(options(dir.path()).folder);
  write_file(dir.file("a.csv"), "RESULT=FAIL code 7\r\nrest\n");
  STRCMP_EQUAL("RESULT=FAIL code 7", f.examine("a.csv", kT0)->first_line.c_str());
  auto o = options(dir.path()).folder;
  o.max_bytes = 1000;
  write_file(dir.file("c.csv"), std::string(400, 'y'));
  LONGS_EQUAL(hal::kFirstLineMax, hal::FolderFilter(o).examine("c.csv", kT0)->first_line.size());
  write_file(dir.file("empty.csv"), "");
  STRCMP_EQUAL("", f.examine("empty.csv", kT0)->first_line.c_str());
}

TEST(FolderWatch, AFileMovedInIsTakenAndItsHiddenTemporaryIsNot) {
  test_support::TempDir dir;
  FolderWatch w(options(dir.path()));
  CHECK(w.open(kT0).ok());
  write_file(dir.file(".SN-2.csv.tmp"), "FAIL\n");
  CHECK(::rename(dir.file(".SN-2.csv.tmp").c_str(), dir.file("SN-2.csv").c_str()) == 0);
  auto evs = events(w);
  LONGS_EQUAL(1, evs.size());
  STRCMP_EQUAL(dir.file("SN-2.csv").c_str(), evs[0].text.c_str());
  STRCMP_EQUAL("", evs[0].error.c_str());
}

TEST(FolderWatch, RefusalsSayWhy) {
  test_support::TempDir dir;
  FolderWatch w(options(dir.path()));
  CHECK(w.open(kT0).ok());
  write_file(dir.file("notes.txt"), "x");
  write_file(dir.file("big.csv"), std::string(101, 'x'));
  std::vector<StationEvent> all;
  for (int i = 0; i < 5 && all.size() < 2; ++i) {
    auto evs = events(w);
    all.insert(all.end(), evs.begin(), evs.end());
  }
  LONGS_EQUAL(2, all.size());
  STRCMP_CONTAINS("pattern mismatch: 'notes.txt' is not '*.csv'", all[0].error.c_str());
  STRCMP_CONTAINS("too large: 101 bytes (max_bytes 100)", all[1].error.c_str());
}

TEST(FolderWatch, AnUnreadableFileIsRefused) {
  test_support::TempDir dir;
  write_file(dir.file("target"), "x");
  FolderWatch w(options(dir.path()));
  CHECK(w.open(kT0).ok());
  hal::FolderFilter f(options(dir.path()).folder);
  CHECK(::symlink(dir.file("target").c_str(), dir.file("link.csv").c_str()) == 0);
  auto ev = f.examine("link.csv", kT0);
  CHECK(ev.has_value());
  STRCMP_CONTAINS("unreadable: ", ev->error.c_str());
}

TEST(FolderWatch, AMissingDirectoryIsWatchedOnceItExistsWithoutATimer) {
  test_support::TempDir dir;
  const std::string sub = dir.file("a/out");
  FolderWatch w(options(sub));
  CHECK_FALSE(w.open(kT0).ok());
  CHECK_FALSE(w.status().connected);
  STRCMP_CONTAINS("No such file or directory", w.status().last_error.c_str());
  CHECK(w.fd() >= 0);                          // watching the nearest parent that exists
  CHECK_FALSE(w.next_deadline().has_value());  // no polling: an idle station sleeps
  CHECK(::mkdir(dir.file("a").c_str(), 0755) == 0);
  CHECK(events(w).empty());
  CHECK_FALSE(w.status().connected);
  CHECK(::mkdir(sub.c_str(), 0755) == 0);
  CHECK(events(w).empty());
  CHECK(w.status().connected);
  write_file(sub + "/a.csv", "1");
  LONGS_EQUAL(1, events(w).size());
  // Deleted: missing again (no timer), and watched again once it is back.
  CHECK(::unlink((sub + "/a.csv").c_str()) == 0);
  CHECK(::rmdir(sub.c_str()) == 0);
  events(w);
  CHECK_FALSE(w.status().connected);
  CHECK_FALSE(w.next_deadline().has_value());
  CHECK(::mkdir(sub.c_str(), 0755) == 0);
  events(w);
  CHECK(w.status().connected);
  write_file(sub + "/b.csv", "2");
  LONGS_EQUAL(1, events(w).size());
}

TEST(FolderWatch, APathThatIsAFileIsNotADirectory) {
  test_support::TempDir dir;
  write_file(dir.file("plain"), "x");
  FolderWatch w(options(dir.file("plain")));
  CHECK_FALSE(w.open(kT0).ok());
  STRCMP_CONTAINS("not a directory", w.status().last_error.c_str());
}

TEST(FolderWatch, ValidateNamesTheBadOption) {
  auto o = options("relative/dir");
  STRCMP_CONTAINS("input results: path: expected an absolute", FolderWatch::validate(o).error().what.c_str());
  o = options("/tmp");
  o.folder.pattern = "a/*.csv";
  STRCMP_CONTAINS("pattern: expected a file name glob", FolderWatch::validate(o).error().what.c_str());
}
