// SPDX-License-Identifier: Apache-2.0
#include "agent/ion/regions.hpp"

namespace agent {
namespace {

#define ION_TOKEN_PATH "/realms/api-keys/protocol/openid-connect/token"

constexpr IonRegion kRegions[] = {
    {"production", "https://api.buildwithion.com", "https://auth.buildwithion.com" ION_TOKEN_PATH},
    {"staging", "https://staging-api.buildwithion.com",
     "https://staging-auth.buildwithion.com" ION_TOKEN_PATH},
    {"gov", "https://api-production-gov.buildwithion.com",
     "https://auth-production-gov.buildwithion.com" ION_TOKEN_PATH},
    {"gov-staging", "https://api-staging-gov.buildwithion.com",
     "https://auth-staging-gov.buildwithion.com" ION_TOKEN_PATH},
    {"aus", "https://api-production-aus.buildwithion.com",
     "https://auth-production-aus.buildwithion.com" ION_TOKEN_PATH},
    {"aus-staging", "https://api-staging-aus.buildwithion.com",
     "https://auth-staging-aus.buildwithion.com" ION_TOKEN_PATH},
};

#undef ION_TOKEN_PATH

}  // namespace

const IonRegion* find_ion_region(std::string_view name) noexcept {
  for (const auto& r : kRegions) {
    if (r.name == name) {
      return &r;
    }
  }
  return nullptr;
}

std::string ion_region_names() {
  std::string s;
  for (const auto& r : kRegions) {
    s += (s.empty() ? "" : ", ") + std::string(r.name);
  }
  return s;
}

}  // namespace agent
