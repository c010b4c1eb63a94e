// SPDX-License-Identifier: Apache-2.0
// The ION environments (agent/ion/README.md §1): region name → API base and token endpoint. Keys are
// per environment; a key from one fails on another ("Unable to find appropriate RSA key").
// Tenants with dedicated hosts pass both URLs explicitly instead.
#pragma once

#include <string>
#include <string_view>

namespace agent {

struct IonRegion {
  std::string_view name;
  std::string_view api_url;
  std::string_view token_url;
};

// nullptr if the name is not one of the known regions.
const IonRegion* find_ion_region(std::string_view name) noexcept;
// "production, staging, gov, gov-staging, aus, aus-staging"
std::string ion_region_names();

}  // namespace agent
