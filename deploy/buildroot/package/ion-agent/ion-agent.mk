################################################################################
#
# ion-agent
#
################################################################################

# SPDX-License-Identifier: Apache-2.0
# Builds the checkout this external tree lives in. To build a release instead:
#   ION_AGENT_SITE = https://.../ion-agent-$(ION_AGENT_VERSION).tar.gz (and drop SITE_METHOD)
ION_AGENT_VERSION = 0.1.0
ION_AGENT_SITE = $(BR2_EXTERNAL_ION_AGENT_PATH)/../..
ION_AGENT_SITE_METHOD = local
# The checkout's own build products (build*/, out/, caches) stay out of Buildroot's copy.
ION_AGENT_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude='/build*/' --exclude=/out/ --exclude=/.cache/ --exclude=/tests/ion-sim/.state/
ION_AGENT_LICENSE = Apache-2.0
ION_AGENT_LICENSE_FILES = LICENSE
ION_AGENT_DEPENDENCIES = host-pkgconf mbedtls libcurl cjson sqlite
# The one state-directory setting: the agent's default, the unit, sysusers/tmpfiles and the
# user's home in ION_AGENT_USERS follow it.
ION_AGENT_STATE_DIR = /var/lib/ion-agent
ION_AGENT_CONF_OPTS = \
	-DION_AGENT_BUILD_TESTS=OFF \
	-DION_AGENT_STATE_DIR=$(ION_AGENT_STATE_DIR) \
	-DION_AGENT_SYSTEMD_UNITDIR=/usr/lib/systemd/system \
	-DION_AGENT_SYSUSERSDIR=/usr/lib/sysusers.d \
	-DION_AGENT_TMPFILESDIR=/usr/lib/tmpfiles.d \
	-DION_AGENT_UDEVRULESDIR=/usr/lib/udev/rules.d

ifeq ($(BR2_PACKAGE_ION_AGENT_GPIOD_V1),y)
ION_AGENT_DEPENDENCIES += libgpiod
ION_AGENT_CONF_OPTS += -DION_AGENT_GPIOD=v1
else
ION_AGENT_DEPENDENCIES += libgpiod2
ION_AGENT_CONF_OPTS += -DION_AGENT_GPIOD=v2
endif

# The gpio group owns /dev/gpiochip* (60-ion-agent-gpio.rules).
define ION_AGENT_USERS
	- -1 gpio -1 * - - - GPIO character devices
	ion-agent -1 ion-agent -1 * $(ION_AGENT_STATE_DIR) - input,dialout,gpio ION shop-floor agent
endef

# The unit itself is installed by CMake. Enabled by a preset: Buildroot's systemd runs
# `systemctl preset-all` on the target, which makes the /etc symlink from the unit's
# [Install] section, so `systemctl disable ion-agent` undoes it.
define ION_AGENT_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(ION_AGENT_PKGDIR)/80-ion-agent.preset \
		$(TARGET_DIR)/usr/lib/systemd/system-preset/80-ion-agent.preset
endef

$(eval $(cmake-package))
