// SPDX-License-Identifier: Apache-2.0
// Regex (POSIX ERE over libc's regcomp): whole-text matching, groups, the ERE features the
// shipped profiles use, and refusal of ECMAScript-only syntax with a useful message.
#include "agent/profile/regex.hpp"

#include <CppUTest/TestHarness.h>

#include <string>
#include <vector>

namespace {

agent::Regex compiled(const std::string& pattern) {
  auto re = agent::Regex::compile(pattern);
  CHECK_TEXT(re.ok(), re.ok() ? "" : ("'" + pattern + "': " + re.error().what).c_str());
  return std::move(re).value();
}

std::string refusal(const std::string& pattern) {
  auto re = agent::Regex::compile(pattern);
  CHECK_TEXT(!re.ok(), ("'" + pattern + "' unexpectedly compiled").c_str());
  CHECK(re.error().code == hal::Errc::config);
  return re.error().what;
}

void expect_refused(const std::string& pattern, const std::string& expected) {
  std::string why = refusal(pattern);
  CHECK_TEXT(why.find(expected) != std::string::npos, ("expected '" + expected + "' in: " + why).c_str());
}

}  // namespace

TEST_GROUP(Regex){};

TEST(Regex, MatchesOnlyTheWholeText) {
  auto re = compiled("SN-[0-9]{3}");  // no anchors: whole-text all the same
  CHECK(re.full_match("SN-123"));
  CHECK_FALSE(re.full_match("SN-1234"));
  CHECK_FALSE(re.full_match("XSN-123"));
  CHECK_FALSE(re.full_match(""));
  CHECK(compiled("").full_match(""));
  CHECK_FALSE(compiled("").full_match("x"));
}

TEST(Regex, AlternationMatchesWholeTextEvenWhenAShorterBranchComesFirst) {
  // ECMAScript tries branches in order; the whole-text rule must still find "SN-1".
  auto re = compiled("SN|SN-1");
  CHECK(re.full_match("SN-1"));
  CHECK(re.full_match("SN"));
  CHECK_FALSE(re.full_match("SN-"));
  // Top-level alternation stays inside the anchors ("a|b$" must not mean "a..." or "...b").
  auto ab = compiled("a|b");
  CHECK_FALSE(ab.full_match("ax"));
  CHECK_FALSE(ab.full_match("xb"));
}

TEST(Regex, GroupsAreNumberedFromOneAndUnmatchedOnesAreEmpty) {
  auto re = compiled("^V=([0-9]+(\\.[0-9]+)?)$");
  LONGS_EQUAL(2, re.groups());
  std::vector<std::string> g;
  CHECK(re.full_match("V=12.5", &g));
  LONGS_EQUAL(3, g.size());
  STRCMP_EQUAL("V=12.5", g[0].c_str());
  STRCMP_EQUAL("12.5", g[1].c_str());
  STRCMP_EQUAL(".5", g[2].c_str());
  CHECK(re.full_match("V=7", &g));
  STRCMP_EQUAL("7", g[1].c_str());
  STRCMP_EQUAL("", g[2].c_str());
  std::vector<std::string> untouched{"keep"};
  CHECK_FALSE(re.full_match("V=", &untouched));
  STRCMP_EQUAL("keep", untouched[0].c_str());
  LONGS_EQUAL(0, compiled("abc").groups());
}

TEST(Regex, EreFeaturesThatShippedProfilesUse) {
  CHECK(compiled("^LOC:([A-Z0-9-]{1,40})$").full_match("LOC:BAY-7"));
  CHECK_FALSE(compiled("^LOC:([A-Z0-9-]{1,40})$").full_match("LOC:bay-7"));
  CHECK(compiled("^FW=([0-9A-Za-z.+-]{1,32})$").full_match("FW=1.2.3+rc-1"));
  CHECK(compiled("^GRADE=([ABC])$").full_match("GRADE=B"));
  CHECK_FALSE(compiled("^GRADE=([ABC])$").full_match("GRADE=D"));
  CHECK(compiled("^OP-[0-9]{3,6}$").full_match("OP-1234"));
  CHECK_FALSE(compiled("^OP-[0-9]{3,6}$").full_match("OP-12"));
  CHECK(compiled("[[:digit:]]+[[:alpha:]]?").full_match("42a"));
  CHECK(compiled("a\\.b\\(c\\)").full_match("a.b(c)"));
  CHECK(compiled("[^]x]+").full_match("abc"));
  CHECK_FALSE(compiled("[^]x]+").full_match("a]c"));
}

TEST(Regex, TextWithANulByteNeverMatches) {
  auto re = compiled("SN.*");
  CHECK(re.full_match("SN-1"));
  CHECK_FALSE(re.full_match(std::string("SN\0-1", 5)));
}

TEST(Regex, CopiesShareTheCompiledPatternAndOutliveTheOriginal) {
  std::vector<agent::Regex> copies;
  {
    auto re = compiled("([a-z]+)-([0-9]+)");
    copies.assign(3, re);
  }
  std::vector<std::string> g;
  CHECK(copies[2].full_match("ab-12", &g));
  STRCMP_EQUAL("12", g[2].c_str());
}

TEST(Regex, SyntaxErrorsCarryLibcsMessage) {
  CHECK(!refusal("^SN-([0-9]{6}$").empty());
  CHECK(!refusal("[0-9").empty());
  CHECK(!refusal("x{2,1}").empty());
  // Valid only once wrapped in the anchoring group: refused all the same.
  CHECK(!refusal("a)|(b").empty());
}

TEST(Regex, EcmaScriptEscapesAreRefusedWithTheEreSpelling) {
  expect_refused("^SN-\\d{6}$", "at offset 4: \\d is not POSIX ERE; use [0-9]");
  expect_refused("\\w+", "use [A-Za-z0-9_]");
  expect_refused("a\\sb", "use [[:space:]]");
  expect_refused("\\bSN", "\\b is not POSIX ERE");
  expect_refused("(a)\\1", "back-references are not POSIX ERE");
  expect_refused("\\<SN", "\\< is not POSIX ERE");
  expect_refused("[\\d.]+", "a backslash inside [...] is literal in POSIX ERE");
}

TEST(Regex, EcmaScriptGroupsAndLazyQuantifiersAreRefused) {
  expect_refused("(?:SN)-1", "at offset 0: (?...) groups");
  expect_refused("SN(?=-)", "(?...) groups");
  expect_refused("SN-(.*?)", "at offset 6: lazy or possessive quantifiers");
  expect_refused("a+?", "lazy");
  expect_refused("a{2,3}?", "lazy");
  // The same characters are fine where ERE gives them their plain meaning.
  CHECK(compiled("\\(?SN\\)?").full_match("(SN)"));
  CHECK(compiled("[(?]+").full_match("(?"));
  CHECK(compiled("[[:alpha:]?*]+").full_match("a?*"));
  expect_refused("[[:alpha:]\\]+", "a backslash inside [...]");
}
