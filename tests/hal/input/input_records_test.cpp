// SPDX-License-Identifier: Apache-2.0
#include "hal/input_records.hpp"

#include <CppUTest/TestHarness.h>

#include "evdev_streams.hpp"

TEST_GROUP(InputRecords){};

TEST(InputRecords, RoundTripsEveryLayout) {
  auto events = test_streams::load("us_shift.evdev");
  CHECK(events.size() > 10);
  for (auto layout : {hal::RecordLayout::native, hal::RecordLayout::le64, hal::RecordLayout::le32}) {
    std::string bytes = hal::encode_input_records(events, layout);
    LONGS_EQUAL(events.size() * hal::record_size(layout), bytes.size());
    std::vector<input_event> back;
    LONGS_EQUAL(bytes.size(), hal::parse_input_records(bytes, layout, back));
    LONGS_EQUAL(events.size(), back.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      LONGS_EQUAL(events[i].code, back[i].code);
      LONGS_EQUAL(events[i].value, back[i].value);
      LONGS_EQUAL(events[i].input_event_usec, back[i].input_event_usec);
    }
  }
}

TEST(InputRecords, CheckedInFilesAreLe64) {
  std::string bytes = test_streams::read_file(test_streams::stream_path("us_shift.evdev"));
  LONGS_EQUAL(0, bytes.size() % 24);
  auto events = test_streams::load("us_shift.evdev");
  CHECK(hal::encode_input_records(events, hal::RecordLayout::le64) == bytes);
}

TEST(InputRecords, PartialRecordIsLeftForLater) {
  auto events = test_streams::load("us_shift.evdev");
  std::string bytes = hal::encode_input_records({events[0], events[1]}, hal::RecordLayout::le64);
  std::vector<input_event> out;
  LONGS_EQUAL(24,
              hal::parse_input_records(std::string_view(bytes).substr(0, 40), hal::RecordLayout::le64, out));
  LONGS_EQUAL(1, out.size());
}

TEST(InputRecords, LayoutNames) {
  CHECK(hal::parse_record_layout("16").value() == hal::RecordLayout::le32);
  CHECK(hal::parse_record_layout("native").value() == hal::RecordLayout::native);
  CHECK_FALSE(hal::parse_record_layout("32").ok());
}
