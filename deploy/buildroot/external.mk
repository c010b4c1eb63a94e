# SPDX-License-Identifier: Apache-2.0
include $(sort $(wildcard $(BR2_EXTERNAL_ION_AGENT_PATH)/package/*/*.mk))
