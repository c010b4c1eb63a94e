// SPDX-License-Identifier: Apache-2.0
// SoftHsm: a SoftHSM2 token store of its own (config + token directory in a scratch
// directory) with one initialised token, for the PKCS#11 key provider tests. env() is what a
// subprocess needs (SOFTHSM2_CONF); use() points this process at it.
#pragma once

#include <string>
#include <vector>

namespace ion_test {

class SoftHsm {
 public:
  static constexpr const char* kUserPin = "4711-test-pin";
  // Initialises a token labelled `label` with kUserPin under `dir`. Check ok().
  SoftHsm(const std::string& dir, const std::string& label);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string env() const { return "SOFTHSM2_CONF=" + conf_; }
  void use() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_, conf_, error_;
};

}  // namespace ion_test
